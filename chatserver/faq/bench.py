"""Benchmark the matcher on a synthetic large FAQ (`chatserver bench faq`)."""

from __future__ import annotations

import random
import time
from pathlib import Path

from chatserver.faq.loader import Faq, FaqEntry, load_faq
from chatserver.faq.matcher import Matcher

DEFAULT_FAQ = Path(__file__).resolve().parents[2] / "faq_data" / "faq.toml"
_VARIANTS = (
    "jacket",
    "dress",
    "phone case",
    "smartwatch",
    "earbuds",
    "sneakers",
    "hoodie",
    "charger",
    "backpack",
    "sunglasses",
    "tablet stand",
    "scarf",
    "lamp",
    "keyboard",
    "speaker",
    "jeans",
)


def expand_faq(faq: Faq, entries: int) -> Faq:
    """Grow a FAQ to `entries` entries by copying real ones with a product word added.

    Each language's entries grow the same way, so a matcher in any language sees `entries`.
    """
    translations = {
        lang: _expand(translated, entries) for lang, translated in faq.translations.items()
    }
    return Faq(
        entries=_expand(faq.entries, entries),
        translations=translations,
        source=f"{faq.source} x{entries}",
    )


def _expand(base_entries: tuple[FaqEntry, ...], entries: int) -> tuple[FaqEntry, ...]:
    grown: list[FaqEntry] = []
    if not base_entries:
        return ()
    index = 0
    while len(grown) < entries:
        base = base_entries[index % len(base_entries)]
        round_ = index // len(base_entries)
        if round_ == 0:
            grown.append(base)
        else:
            product = f"{_VARIANTS[round_ % len(_VARIANTS)]} {round_}"
            grown.append(
                base.model_copy(
                    update={
                        "id": f"{base.id}-{round_}",
                        "title": f"{base.title} ({product})",
                        "questions": tuple(f"{q} {product}" for q in base.questions),
                    }
                )
            )
        index += 1
    return tuple(grown)


def _percentile(sorted_values: list[float], share: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(share * len(sorted_values)))]


def run_match_bench(
    entries: int = 500, queries: int = 2000, faq_path: Path = DEFAULT_FAQ, lang: str = "en"
) -> dict:
    """Time `Matcher.match` on a synthetic FAQ in one language and print a table.

    Returns:
        {"lang", "entries", "questions", "queries", "build_ms", "p50_ms", "p99_ms", "max_ms",
        "cpu_p99_ms"}: wall-clock times, and the p99 of the CPU time the matching thread used
        (on a busy machine the wall clock also counts the time the thread waited for a core).
    """
    loaded = load_faq(faq_path)
    # The language's own texts (English where an entry has none), grown like the English ones.
    faq = expand_faq(Faq(entries=loaded.matchable(lang), source=f"{loaded.source} {lang}"), entries)
    started = time.perf_counter()
    matcher = Matcher(faq, lang=lang)
    build_ms = (time.perf_counter() - started) * 1000
    rng = random.Random(7)
    pool = [q for entry in faq.matchable(lang) for q in entry.questions]
    texts = []
    for _ in range(queries):
        words = rng.choice(pool).split()
        if len(words) > 2 and rng.random() < 0.5:  # a typo: swap two letters of one word
            pos = rng.randrange(len(words))
            word = words[pos]
            if len(word) > 3:
                cut = rng.randrange(len(word) - 1)
                words[pos] = word[:cut] + word[cut + 1] + word[cut] + word[cut + 2 :]
        texts.append(" ".join(words) + rng.choice(("", " please", " ?", " thanks")))
    for text in texts[:50]:  # warm the typo cache and the interpreter
        matcher.match(text)
    timings, cpu_timings = [], []
    for text in texts:
        started, cpu_started = time.perf_counter(), time.thread_time()
        matcher.match(text)
        timings.append((time.perf_counter() - started) * 1000)
        cpu_timings.append((time.thread_time() - cpu_started) * 1000)
    timings.sort()
    cpu_timings.sort()
    result = {
        "lang": lang,
        "entries": len(faq.entries),
        "questions": len(pool),
        "queries": queries,
        "build_ms": round(build_ms, 1),
        "p50_ms": round(_percentile(timings, 0.50), 3),
        "p99_ms": round(_percentile(timings, 0.99), 3),
        "max_ms": round(timings[-1], 3),
        "cpu_p99_ms": round(_percentile(cpu_timings, 0.99), 3),
    }
    print(
        f"{'lang':>6} {'entries':>8} {'questions':>9} {'queries':>8} {'build ms':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'cpu p99':>8}"
    )
    print(
        f"{lang:>6} {result['entries']:>8} {result['questions']:>9} {result['queries']:>8} "
        f"{result['build_ms']:>9} {result['p50_ms']:>8} {result['p99_ms']:>8} {result['max_ms']:>8} "
        f"{result['cpu_p99_ms']:>8}"
    )
    return result
