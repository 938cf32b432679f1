"""The operator's command line: user, token, worker, backup/restore, check and serve."""

import io
import json
import os
import subprocess
import sys
import textwrap

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django_tasks_db.models import DBTaskResult

from retaguarda.core.models import ApiToken, AuditLog, Company, Membership, OutboxEvent, User, WebhookDelivery
from retaguarda.core.testing import PASSWORD, company_build, user_build
from retaguarda.core.webhooks import delivery_enqueue

from .webhook_receiver import Receiver, restoring_signals


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# user ---------------------------------------------------------------------------------------


def test_user_create_makes_a_user_with_a_role_in_the_company(company):
    output = run("user", "create", "alice", "--company", str(company.pk), "--role", "sales", "--password", PASSWORD)

    assert output == f"user alice is sales in {company}\n"
    alice = User.objects.get(username="alice")
    assert alice.check_password(PASSWORD)
    membership = Membership.objects.get(user=alice)
    assert (membership.company_id, membership.role, membership.areas, membership.is_active) == (
        company.pk,
        "sales",
        [],
        True,
    )
    audit = AuditLog.objects.get(action="user.grant", object_id=str(alice.pk))
    assert (audit.actor_id, audit.actor_label, audit.company_id) == (None, "system", company.pk)


def test_user_create_partner_with_areas_by_tax_id(company):
    run(
        "user",
        "create",
        "acct",
        "--company",
        company.tax_id,
        "--role",
        "partner",
        "--areas",
        "accounting,parties",
        "--password",
        PASSWORD,
    )
    membership = Membership.objects.get(user__username="acct")
    assert (membership.role, membership.areas) == ("partner", ["accounting", "parties"])


def test_user_create_without_password_prompts_for_it(company, monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt: PASSWORD)
    run("user", "create", "bob", "--company", str(company.pk), "--role", "hr")
    assert User.objects.get(username="bob").check_password(PASSWORD)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--company", "999999", "--role", "sales", "--password", PASSWORD], "no company '999999'"),
        (["--role", "partner", "--areas", "moon", "--password", PASSWORD], "unknown areas: moon"),
        (["--role", "sales", "--password", "123"], "This password is too short"),
    ],
)
def test_user_create_refusals_write_nothing(company, args, message):
    if "--company" not in args:
        args = ["--company", str(company.pk), *args]
    audit_rows = AuditLog.objects.count()
    with pytest.raises(CommandError, match=message):
        run("user", "create", "carol", *args)
    assert not User.objects.filter(username="carol").exists()
    assert AuditLog.objects.count() == audit_rows


def test_user_list(company):
    user_build(company, "warehouse", username="wanda")
    user_build(company, "partner", username="pat", areas=["warehouse"])
    assert run("user", "list").splitlines() == [
        f"{company.pk}\t{company}\tpat\tpartner\twarehouse",
        f"{company.pk}\t{company}\twanda\twarehouse\t",
    ]


# token --------------------------------------------------------------------------------------


def test_token_create_list_revoke(company):
    user_build(company, "sales", username="shopbot")

    output = run("token", "create", "shopbot", "--name", "storefront").splitlines()
    token = ApiToken.objects.get()
    assert output[0] == f"token {token.pk} for shopbot in {company}:"
    raw = output[1]
    assert raw.startswith("rtg_") and raw[:12] == token.prefix
    me = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/core/me")
    assert (me.status_code, me.json()["username"]) == (200, "shopbot")

    listing = run("token", "list")
    assert listing == f"{token.pk}\t{token.prefix}…\tstorefront\tshopbot\t{company}\tactive\n"
    assert raw not in listing

    assert run("token", "revoke", str(token.pk)) == f"token {token.pk} revoked\n"
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert run("token", "list") == ""
    assert run("token", "list", "--all") == f"{token.pk}\t{token.prefix}…\tstorefront\tshopbot\t{company}\trevoked\n"
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/core/me").status_code == 401
    assert [
        a.action for a in AuditLog.objects.filter(object_type="core.apitoken", object_id=str(token.pk)).order_by("id")
    ] == [
        "token.create",
        "token.revoke",
    ]


def test_token_create_in_a_company_the_user_has_no_access_to_is_refused(company):
    other = company_build(country="BR")
    user_build(company, "sales", username="shopbot")
    with pytest.raises(CommandError, match="no access to that company"):
        run("token", "create", "shopbot", "--name", "x", "--company", str(other.pk))
    with pytest.raises(CommandError, match="no user 'ghost'"):
        run("token", "create", "ghost", "--name", "x")
    with pytest.raises(CommandError, match="no token 424242"):
        run("token", "revoke", "424242")
    assert ApiToken.objects.count() == 0


# worker -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_worker_runs_queued_jobs_and_exits_in_batch_mode():
    """The worker manages its own connections and transactions, so no test transaction around it."""
    from retaguarda.core.models import WebhookSubscription

    company = company_build()
    receiver = Receiver().start()
    try:
        subscription = WebhookSubscription.objects.create(
            company=company, name="shop", url=receiver.url, secret="whsec_x", events=["*"]
        )
        event = OutboxEvent.objects.create(company=company, name="order.confirmed")
        delivery = WebhookDelivery.objects.create(subscription=subscription, event=event)
        delivery_enqueue(delivery_id=delivery.pk, company_id=company.pk, scheduled_for=delivery.created_at)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
        with restoring_signals():
            call_command("worker", "--batch", "--interval", "0", stdout=io.StringIO())
    finally:
        receiver.stop()
    delivery.refresh_from_db()
    assert (delivery.status, len(receiver.requests)) == ("delivered", 1)
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


# Subprocesses: the `retaguarda` program as an operator runs it ------------------------------


def clean_env(**overrides) -> dict:
    """The environment without this test run's retaguarda settings, plus `overrides`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RETAGUARDA_", "DJANGO_")) and k != "DATABASE_URL"}
    env.update(overrides)
    return env


def retaguarda(env: dict, *args, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "retaguarda", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def shell(env: dict, code: str) -> dict:
    """Run Python in `retaguarda shell` and return the JSON it prints last."""
    result = retaguarda(env, "shell", "--no-imports", "-c", textwrap.dedent(code))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


MAKE_DATA = """
    import json
    from retaguarda.core.services import user_create
    from retaguarda.core.testing import company_build
    company = company_build(country="ES", legal_name="Tienda Original SL")
    user_create(username="alice", password=None, company=company, role="sales")
    print(json.dumps({"company": company.pk}))
"""

CHANGE_DATA = """
    import json
    from retaguarda.core.models import Company, User
    from retaguarda.core.services import user_create
    company = Company.objects.get()
    Company.objects.update(legal_name="Tienda Cambiada SL")
    user_create(username="bob", password=None, company=company, role="finance")
    User.objects.filter(username="alice").delete()
    print(json.dumps({"ok": True}))
"""

READ_DATA = """
    import json
    from retaguarda.core.models import AuditLog, Company, User
    print(json.dumps({
        "companies": list(Company.objects.values_list("legal_name", flat=True)),
        "users": sorted(User.objects.values_list("username", flat=True)),
        "audit": AuditLog.objects.count(),
    }))
"""


def backup_round_trip(env: dict, backup_file) -> None:
    result = retaguarda(env, "migrate", "--no-input", "-v", "0")
    assert result.returncode == 0, result.stderr
    shell(env, MAKE_DATA)
    before = shell(env, READ_DATA)
    assert before["companies"] == ["Tienda Original SL"] and before["users"] == ["alice"]

    result = retaguarda(env, "backup", str(backup_file))
    assert result.returncode == 0, result.stderr
    assert f"backup written to {backup_file}" in result.stdout
    assert backup_file.stat().st_size > 0

    shell(env, CHANGE_DATA)
    changed = shell(env, READ_DATA)
    assert changed["companies"] == ["Tienda Cambiada SL"] and changed["users"] == ["bob"]

    refused = subprocess.run(
        [sys.executable, "-m", "retaguarda", "restore", str(backup_file)],
        env=env,
        input="no\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0 and "cancelled" in refused.stderr
    assert shell(env, READ_DATA) == changed

    result = retaguarda(env, "restore", str(backup_file), "--yes")
    assert result.returncode == 0, result.stderr
    assert f"database restored from {backup_file}" in result.stdout
    assert shell(env, READ_DATA) == before


def test_backup_and_restore_round_trip_on_sqlite(tmp_path):
    env = clean_env(
        RETAGUARDA_MODE="development",
        RETAGUARDA_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'live.sqlite3'}",
    )
    backup_round_trip(env, tmp_path / "backups" / "retaguarda.sqlite3")


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    env = clean_env(
        RETAGUARDA_MODE="development",
        RETAGUARDA_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'live.sqlite3'}",
    )
    junk = tmp_path / "junk.sqlite3"
    junk.write_text("this is not a database, just text that is long enough to have a header" * 20)
    result = retaguarda(env, "restore", str(junk), "--yes")
    assert result.returncode == 1
    assert "not a SQLite backup" in result.stderr
    missing = retaguarda(env, "restore", str(tmp_path / "missing.sqlite3"), "--yes")
    assert missing.returncode == 1 and "no such file" in missing.stderr


@pytest.fixture
def scratch_postgres(db):
    """A scratch PostgreSQL database beside the test database, dropped afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL run only")
    import psycopg

    settings_dict = connection.settings_dict
    name = f"{settings_dict['NAME']}_backup"[:63]
    params = {
        "host": settings_dict.get("HOST") or None,
        "port": settings_dict.get("PORT") or None,
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    params = {k: v for k, v in params.items() if v is not None}
    with psycopg.connect(**params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    yield f"postgres://{user}{password}{'@' if user else ''}{host}{port}/{name}"
    with psycopg.connect(**params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_and_restore_round_trip_on_postgresql(scratch_postgres, tmp_path):
    env = clean_env(RETAGUARDA_MODE="development", RETAGUARDA_VAR_DIR=str(tmp_path), DATABASE_URL=scratch_postgres)
    backup_round_trip(env, tmp_path / "retaguarda.dump")


# check and serve ----------------------------------------------------------------------------

GOOD_SECRET = "k3Xq9vB2mT7wR4yZ8nL1pC6sD0fG5hJ-aE3uI9oP2qW7xV5bN8mK1jH4gF6dS2aZ0"


def production_env(tmp_path, **changes) -> dict:
    env = clean_env(
        RETAGUARDA_MODE="production",
        RETAGUARDA_SECRET_KEY=GOOD_SECRET,
        RETAGUARDA_ALLOWED_HOSTS="backoffice.example.com",
        RETAGUARDA_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'check.sqlite3'}",
    )
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def test_check_accepts_a_proper_production_configuration(tmp_path):
    result = retaguarda(production_env(tmp_path), "check")
    assert result.returncode == 0, result.stderr
    assert "mode: production  debug: False" in result.stdout
    assert "configuration OK" in result.stdout


def test_check_accepts_development_mode_with_defaults(tmp_path):
    env = clean_env(
        RETAGUARDA_MODE="development", RETAGUARDA_VAR_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'd.db'}"
    )
    result = retaguarda(env, "check")
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout


SECRET_PROBLEM = "RETAGUARDA_SECRET_KEY is missing or is the development default"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"RETAGUARDA_SECRET_KEY": None}, SECRET_PROBLEM),
        ({"RETAGUARDA_SECRET_KEY": ""}, SECRET_PROBLEM),
        ({"RETAGUARDA_SECRET_KEY": "insecure-development-key-change-me"}, SECRET_PROBLEM),
        ({"RETAGUARDA_SECRET_KEY": "short-but-not-default"}, "RETAGUARDA_SECRET_KEY is shorter than 32 characters"),
        ({"RETAGUARDA_DEBUG": "1", "RETAGUARDA_SECURE_COOKIES": "1"}, "Debug is on (RETAGUARDA_DEBUG)"),
        ({"RETAGUARDA_SECURE_COOKIES": "0"}, "Cookies are not marked secure"),
        ({"RETAGUARDA_ALLOWED_HOSTS": "*"}, "RETAGUARDA_ALLOWED_HOSTS is '*'"),
        ({"RETAGUARDA_ALLOWED_HOSTS": None}, "RETAGUARDA_ALLOWED_HOSTS is '*'"),
        ({"RETAGUARDA_MODE": "staging"}, "RETAGUARDA_MODE is 'staging'"),
    ],
)
def test_check_refuses_an_unsafe_production_configuration(tmp_path, changes, reason):
    result = retaguarda(production_env(tmp_path, **changes), "check")
    assert result.returncode == 1
    problems = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert len(problems) == 1 and reason in problems[0], result.stderr
    assert "unsafe production configuration" in result.stderr
    assert "configuration OK" not in result.stdout


def test_check_reports_every_problem_at_once(tmp_path):
    env = production_env(tmp_path, RETAGUARDA_SECRET_KEY=None, RETAGUARDA_DEBUG="1", RETAGUARDA_ALLOWED_HOSTS=None)
    result = retaguarda(env, "check")
    assert result.returncode == 1
    for reason in (SECRET_PROBLEM, "Debug is on", "Cookies are not marked secure", "ALLOWED_HOSTS is '*'"):
        assert reason in result.stderr


def test_serve_refuses_to_start_with_an_unsafe_production_configuration(tmp_path):
    result = retaguarda(production_env(tmp_path, RETAGUARDA_SECRET_KEY=None), "serve", "--bind", "127.0.0.1:0")
    assert result.returncode == 3
    assert "retaguarda refuses to start in production mode" in result.stderr
    assert SECRET_PROBLEM in result.stderr


def test_check_fails_when_the_database_is_unreachable(tmp_path):
    env = production_env(tmp_path, DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    result = retaguarda(env, "check")
    assert result.returncode == 1
    assert "database unreachable" in result.stderr


# company ------------------------------------------------------------------------------------


def test_company_create_and_list(db):
    output = run("company", "create", "--legal-name", "Loja Nova Ltda", "--tax-id", "11222333000181", "--country", "BR")
    company = Company.objects.get(tax_id="11222333000181")
    assert output == f"company {company.pk} created: Loja Nova Ltda\n"
    assert (company.base_currency, company.default_language) == ("BRL", "pt-br")
    assert AuditLog.objects.filter(action="company.create", object_id=str(company.pk)).count() == 1
    assert run("company", "list") == f"{company.pk}\tBR\t11222333000181\tLoja Nova Ltda\tBRL\n"


def test_company_create_twice_is_refused(db):
    run("company", "create", "--legal-name", "Tienda SL", "--tax-id", "B58378431", "--country", "ES")
    with pytest.raises(CommandError, match="A company with this tax id already exists."):
        run("company", "create", "--legal-name", "Otra SL", "--tax-id", "B58378431", "--country", "ES")
    with pytest.raises(CommandError, match="The company could not be created."):
        run("company", "create", "--legal-name", " ", "--tax-id", "B00000000", "--country", "ES")
    assert list(Company.objects.values_list("legal_name", flat=True)) == ["Tienda SL"]
