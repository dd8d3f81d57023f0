"""The bot's decisions: answer, hand off, greet, thank, or abstain."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import numpy as np
import pytest

from chatserver.faq import FaqBot, load_faq
from chatserver.faq._embedding import DIMENSIONS, Embedder, EmbeddingUnavailable
from chatserver.faq.bench import run_match_bench
from chatserver.faq.language import load_language

FAQ = Path(__file__).resolve().parents[1] / "faq_data" / "faq.toml"
ENGLISH = load_language("en")
normalise = ENGLISH.normalise


@pytest.fixture(scope="module")
def bot() -> FaqBot:
    return FaqBot(load_faq(FAQ))


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("how do I cancel my order", "order-cancel"),
        ("refund status", "refund-status"),
        ("do you ship to switzerland?", "shipping-countries"),
        ("wat is ur return policy", "return-policy"),
        ("my pakage is lost", "lost-package"),
        ("i forgot my pasword", "account-password"),
    ],
)
def test_clear_questions_get_their_entry_with_title_and_answer(
    bot: FaqBot, text: str, entry_id: str
) -> None:
    reply = bot.reply(text)
    assert (reply.kind, reply.entry_id) == ("answer", entry_id)
    assert reply.title and reply.answer and reply.confidence >= bot.matcher.threshold


@pytest.mark.parametrize(
    "text",
    [
        "I want a person",
        "i want talk",
        "I need to speak please",
        "agent please",
        "human",
        "talk to someone",
        "real person",
        "HUMAN!!",
        "can i speak with a representative",
        "connect me to customer service",
        "this is useless",
    ],
)
def test_handoff_requests_are_always_recognised(bot: FaqBot, text: str) -> None:
    assert bot.reply(text).kind == "handoff"


def test_handoff_wins_over_a_faq_question(bot: FaqBot) -> None:
    assert bot.reply("where is my refund? let me talk to a human").kind == "handoff"


@pytest.mark.parametrize("text", ["hi", "Hello there!", "good morning", "hey"])
def test_greetings_get_a_greeting_not_an_answer(bot: FaqBot, text: str) -> None:
    assert bot.reply(text).kind == "greeting"


@pytest.mark.parametrize("text", ["thanks", "thank you so much!", "ok thx", "cheers"])
def test_thanks_get_a_thanks_reply(bot: FaqBot, text: str) -> None:
    assert bot.reply(text).kind == "thanks"


@pytest.mark.parametrize(
    "text", ["do you sell protein powder", "what is the capital of peru", "xyzzy", "", "order"]
)
def test_out_of_scope_questions_abstain(bot: FaqBot, text: str) -> None:
    reply = bot.reply(text)
    assert reply.kind == "abstain" and reply.entry_id is None and reply.answer is None


def test_customer_service_hours_is_a_question_not_a_handoff(bot: FaqBot) -> None:
    assert bot.reply("what are your customer service hours").entry_id == "contact-hours"


def test_normalise_folds_fancy_letters_accents_and_shorthand() -> None:
    assert normalise("𝓘 𝔀𝓪𝓷𝓽 to cancél, pls!!") == "i want to cancel please"
    assert normalise("I didn't get it") == "i did not get it"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("is my pin code 560001 covered", "is my postcode 0 covered"),
        ("Zip-code?", "postcode"),
        ("how much time does it take", "how long does it take"),
        ("how many days to arrive", "how long to arrive"),
        ("were s my order", "where is my order"),
        ("a 2kg box by 11am", "a 2 kg box by 11 am"),
    ],
)
def test_normalise_folds_phrases_long_numbers_and_units(text: str, folded: str) -> None:
    assert normalise(text) == folded


def test_how_much_time_asks_about_delivery_time_not_cost(bot: FaqBot) -> None:
    assert bot.reply("how much time to deliver products").entry_id == "delivery-time"


def test_a_lone_word_near_several_entries_abstains(bot: FaqBot) -> None:
    assert bot.reply("email").kind == "abstain"


@pytest.mark.parametrize(
    "text", ["do you deliver to Tromsø", "can you ship to 75011", "do you ship to new zealand"]
)
def test_any_place_in_a_shipping_question_reads_as_a_place(bot: FaqBot, text: str) -> None:
    assert bot.reply(text).entry_id == "shipping-countries"


def test_unknown_word_after_to_is_not_a_place_outside_shipping_questions(bot: FaqBot) -> None:
    assert bot.matcher._words("how to gain weight") == ["how", "to", "gain", "weight"]


def test_place_names_fold_to_one_word() -> None:
    assert normalise("ship to south africa or norway") == "ship to country or country"


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [("wen will my refnd come", "refund-status"), ("trackin number?", "order-tracking")],
)
def test_typos_still_match(bot: FaqBot, text: str, entry_id: str) -> None:
    assert bot.reply(text).entry_id == entry_id


def test_bench_reports_latency_percentiles(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_match_bench(entries=60, queries=50)
    assert result["entries"] == 60 and 0 < result["p50_ms"] <= result["p99_ms"]
    assert "p99 ms" in capsys.readouterr().out


@pytest.mark.parametrize("text", ["how do i place an order", "how can I buy something here?"])
def test_how_to_order_gets_the_place_order_entry(bot: FaqBot, text: str) -> None:
    assert bot.reply(text).entry_id == "place-order"


def test_meaning_signal_matches_a_question_sharing_few_words(bot: FaqBot) -> None:
    # "pincode" and "service" share no stored word with shipping-countries' ways of asking.
    assert bot.reply("Why are you not delivering in my pincode").entry_id == "shipping-countries"


def test_embedder_loads_from_the_package_without_the_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the embedder tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    vectors = Embedder().embed(["where is my order", "where's my parcel", "do you sell hats"])
    assert vectors.shape == (3, DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_missing_wordllama_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "wordllama", None)  # makes `import wordllama` fail
    with pytest.raises(EmbeddingUnavailable, match=r"pip install 'wordllama>=0\.4'"):
        Embedder()


def test_one_text_embeds_as_in_a_batch() -> None:
    embedder = Embedder()
    texts = ["where is my order", "wen will my refnd come", "ok"]
    batch = embedder.embed(texts)
    for text, row in zip(texts, batch, strict=True):
        assert np.allclose(embedder.embed_one(text), row, atol=1e-5)


def test_nearest_index_scatter_and_scipy_paths_agree_with_a_plain_dot_product() -> None:
    from chatserver.faq import _vectors

    rows = [{"a": 1.0, "b": 2.0}, {"b": 1.0}, {"c": 3.0, "a": 0.5}, {"a": 1.0, "c": 1.0}]
    index = _vectors.NearestIndex(rows, [0, 0, 1, 2])
    query = {"a": 2.0, "c": 1.0, "zzz": 5.0}
    expected = [
        max(
            sum(query.get(f, 0.0) * w for f, w in row.items()) / np.linalg.norm(list(row.values()))
            for row in rows[lo:hi]
        )
        / 3.0
        for lo, hi in ((0, 2), (2, 3), (3, 4))
    ]
    assert np.allclose(index.best_per_group(query, 3.0), expected)
    limit, _vectors._SCATTER_LIMIT = _vectors._SCATTER_LIMIT, 0.0  # force the scipy path
    try:
        assert np.allclose(index.best_per_group(query, 3.0), expected)
    finally:
        _vectors._SCATTER_LIMIT = limit
