"""The command line: agents management, serve's options and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatserver.cli import main
from chatserver.domain.settings import Settings


def test_agents_add_list_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert main(["agents", "add", "maria", "--name", "Maria", "--capacity", "4", *data]) == 0
    added = capsys.readouterr().out
    assert "maria" in added and "with password" in added
    assert main(["agents", "list", *data]) == 0
    assert "maria\tMaria\tagent\tcapacity 4" in capsys.readouterr().out
    assert main(["agents", "remove", "maria", *data]) == 0
    assert main(["agents", "remove", "maria", *data]) == 1
    assert main(["agents", "list", *data]) == 0
    assert "no agents" in capsys.readouterr().out


def test_agents_add_refuses_an_existing_name_and_passwd_keeps_the_role(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert main(["agents", "add", "admin", "--role", "admin", *data]) == 0
    assert main(["agents", "add", "admin", "--password", "new-secret", *data]) == 1
    assert "agents passwd admin" in capsys.readouterr().err
    assert main(["agents", "passwd", "admin", "--password", "new-secret", *data]) == 0
    assert "password of 'admin' (admin) set" in capsys.readouterr().out
    assert main(["agents", "list", *data]) == 0
    assert "admin\tadmin\tadmin" in capsys.readouterr().out
    assert main(["agents", "passwd", "nobody", *data]) == 1


def test_generated_passwords_differ(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("a1", "a2"):
        main(["agents", "add", name, "--data-dir", str(tmp_path)])
    out = capsys.readouterr().out
    passwords = [line.split("password ")[1] for line in out.splitlines() if "password" in line]
    assert len(set(passwords)) == 2


def test_serve_help_documents_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    help_text = capsys.readouterr().out
    for name in Settings.model_fields:
        assert "--" + name.replace("_", "-") in help_text
        assert f"CHAT_{name.upper()}" in help_text.replace("\n", "").replace(" ", "")


def test_serve_refuses_several_workers_without_redis(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--workers", "2"]) == 2
    assert "needs --redis-url" in capsys.readouterr().err


def test_bad_setting_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "not-a-port"]) == 2
    assert "port" in capsys.readouterr().err


def test_settings_come_from_a_config_file(tmp_path: Path) -> None:
    from chatserver.cli import build_parser, settings_from

    config = tmp_path / "chat.env"
    config.write_text("CHAT_RESPONSE_TARGET_S=45\nCHAT_SHOP_ID=acme\n")
    args = build_parser().parse_args(["serve", "--config", str(config), "--shop-id", "override"])
    settings = settings_from(args)
    assert settings.response_target_s == 45 and settings.shop_id == "override"


def test_faq_check_names_the_problem_and_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "faq.toml"
    entry = '[[entry]]\nid = "{id}"\ncategory = "c"\ntitle = "t"\nanswer = "{answer}"\nquestions = ["q {id}"]\n'
    bad.write_text(entry.format(id="dup", answer="a") + entry.format(id="dup", answer="b"))
    assert main(["faq", "check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "'dup'" in out and "duplicate" in out.lower()
    bad.write_text(entry.format(id="one", answer="a") + entry.format(id="two", answer=""))
    assert main(["faq", "check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "entry 2" in out and "'answer' must not be empty" in out


def test_faq_eval_prints_the_contract_line_last(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        '{"text": "which payment methods do you take", "expect": "payment-methods"}\n'
        '{"text": "let me talk to a human", "expect": "human"}\n'
        '{"text": "what is the capital of peru", "expect": null, "note": "ignored"}\n'
    )
    assert main(["faq", "eval", str(questions)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == "correct=1.000 wrong=0.000 abstained=0.000 in_scope_correct=1.000 n=3"


def test_apikeys_add_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert main(["apikeys", "add", "ERP", "--scope", "notices:write", *data]) == 0
    printed = capsys.readouterr().out.splitlines()
    key = printed[-1]
    key_id = key.split("_")[1]
    assert key.startswith("csk_") and key_id in printed[0]
    assert main(["apikeys", "list", *data]) == 0
    listed = capsys.readouterr().out
    assert f"{key_id}\tERP\tnotices:write\t" in listed and listed.strip().endswith("active")
    assert key not in listed
    assert main(["apikeys", "revoke", key_id, *data]) == 0
    assert main(["apikeys", "revoke", "nope", *data]) == 1
    assert main(["apikeys", "list", *data]) == 0
    assert capsys.readouterr().out.strip().endswith("revoked")
