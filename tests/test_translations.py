"""Every shipped message is translated into pt_BR and es, keeps its placeholders, and is compiled;
and the extraction / merge / compile machinery behind `python -m retaguarda.i18n` does what it says."""

from __future__ import annotations

import gettext
import io
import re
import textwrap

import pytest
from babel.messages.catalog import Catalog, Message
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from retaguarda import i18n
from retaguarda.core.choices import Role
from retaguarda.core.selectors import actor_for
from retaguarda.core.testing import client_for, user_build
from retaguarda.web.navigation import navigation_for

HOW_TO_FIX = (
    "\nrun `python -m retaguarda.i18n extract`, translate the new messages in "
    "retaguarda/locale/{pt_BR,es}/LC_MESSAGES/django.po, then `python -m retaguarda.i18n compile`"
)


@pytest.fixture(scope="module")
def shipped_messages() -> Catalog:
    return i18n.extract_messages()


def _problems(template: Catalog, locale: str, kinds: set[str]) -> list[str]:
    return [str(p) for p in i18n.find_problems(template, locales=[locale]) if p.kind in kinds]


# --- the committed catalogues ---------------------------------------------------------------------


def test_the_code_has_messages_to_translate(shipped_messages):
    keys = {(m.id, m.context) for m in shipped_messages if m.id}
    assert ("Log in", None) in keys  # web/login.html
    assert ("Customers", None) in keys  # web/navigation.py
    assert len(keys) > 100


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_message_in_the_code_and_templates_is_translated(shipped_messages, locale):
    problems = _problems(shipped_messages, locale, {"missing", "untranslated", "fuzzy", "plural-forms"})
    assert problems == [], "\n".join(problems) + HOW_TO_FIX


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_translations_keep_the_placeholders(shipped_messages, locale):
    problems = _problems(shipped_messages, locale, {"placeholders"})
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_committed_mo_files_are_compiled_from_the_po_files(shipped_messages, locale):
    problems = _problems(shipped_messages, locale, {"stale-mo"})
    assert problems == [], "\n".join(problems) + HOW_TO_FIX


# --- pages in the user's language ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [("pt-br", ["Entrar", "Senha", "Nome de usuário"]), ("es", ["Iniciar sesión", "Contraseña", "Nombre de usuario"])],
)
def test_login_page_follows_the_language_cookie(db, language, expected):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    response = client.get(reverse("web:login"))

    assert response.status_code == 200
    assert response.headers["Content-Language"] == language
    html = response.content.decode()
    assert f'lang="{language}"' in html
    for text in expected:
        assert text in html
    assert ">Log in<" not in html


def test_login_page_is_english_by_default(db):
    html = Client().get(reverse("web:login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Log in" in html
    assert "Entrar" not in html


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("pt-br", ["Início", "Produtos", "Tabelas de preços", "Administração", "Registro de auditoria", "Sair"]),
        ("es", ["Inicio", "Productos", "Tarifas", "Administración", "Registro de auditoría", "Cerrar sesión"]),
    ],
)
def test_navigation_is_in_the_users_own_language(company, language, expected):
    user = user_build(company, Role.ADMINISTRATOR, language=language)
    actor = actor_for(user, company.pk)
    with translation.override("en"):
        english = _menu_texts(actor)
    with translation.override(language):
        translated = _menu_texts(actor)

    response = client_for(user).get(reverse("web:home"))

    assert response.status_code == 200
    html = response.content.decode()
    for text in expected + translated:
        assert escape(text) in html
    # Every area and link of the menu the administrator sees is translated (the other areas add
    # theirs as they are built); only names that read the same in both languages may stay.
    untranslated = [text for text, theirs in zip(english, translated, strict=True) if text == theirs]
    assert set(untranslated) <= {"Webhooks"}, untranslated


def _menu_texts(actor) -> list[str]:
    texts = []
    for area, links in navigation_for(actor):
        texts.append(str(area))
        texts.extend(str(link.label) for link in links)
    return texts


# --- the machinery, on a throwaway source tree ------------------------------------------------------


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def source_tree(tmp_path):
    root = tmp_path / "pkg"
    _write(
        root / "shop" / "templates" / "shop" / "page.html",
        """\
        {% load i18n %}
        {# Translators: the page heading #}
        <h1>{% translate "Orders" %}</h1>
        <p>{% translate "Open" context "order status" %}</p>
        {% blocktranslate trimmed count counter=orders|length context "orders" %}
          {{ counter }} order for {{ name }}
        {% plural %}
          {{ counter }} orders for {{ name }}
        {% endblocktranslate %}
        {% blocktranslate trimmed with total=order.total %}
          Total: {{ total }}
          (100% paid)
        {% endblocktranslate %}
        {{ value|default:_("None yet") }}
        """,
    )
    _write(root / "shop" / "templates" / "shop" / "mail.txt", '{% load i18n %}{% translate "Your order" %}\n')
    _write(
        root / "shop" / "views.py",
        """\
        from django.utils.translation import gettext as _, gettext_lazy, ngettext, npgettext_lazy, pgettext_lazy

        LABEL = gettext_lazy("Orders")
        STATE = pgettext_lazy("order status", "Open")
        COUNT = npgettext_lazy("lines", "%(count)d line", "%(count)d lines", "count")

        def view(n):
            return _("Hello %(name)s") + ngettext("one file", "{n} files", n)
        """,
    )
    _write(
        root / "shop" / "tests" / "test_views.py",
        'from django.utils.translation import gettext as _\n_("Not shipped")\n',
    )
    _write(
        root / "shop" / "migrations" / "0001_initial.py",
        'from django.utils.translation import gettext as _\n_("Mig")\n',
    )
    _write(root / "shop" / "static" / "shop" / "help.html", '{% load i18n %}{% translate "Static" %}\n')
    return root


def test_extraction_reads_code_and_templates_like_makemessages(source_tree):
    catalog = i18n.extract_messages(root=source_tree, base=source_tree.parent)

    found = {(m.id, m.context): m for m in catalog if m.id}
    assert set(found) == {
        ("Orders", None),
        ("Open", "order status"),
        (("%(counter)s order for %(name)s", "%(counter)s orders for %(name)s"), "orders"),
        ("Total: %(total)s (100%% paid)", None),
        ("None yet", None),
        ("Your order", None),
        (("%(count)d line", "%(count)d lines"), "lines"),
        ("Hello %(name)s", None),
        (("one file", "{n} files"), None),
    }
    assert [loc for loc, _line in found[("Orders", None)].locations] == [
        "pkg/shop/templates/shop/page.html",
        "pkg/shop/views.py",
    ]
    assert found[("Orders", None)].auto_comments == ["Translators: the page heading"]
    assert "python-format" in found[("Hello %(name)s", None)].flags
    assert "python-brace-format" in found[(("one file", "{n} files"), None)].flags


def test_extraction_reports_a_broken_template(tmp_path):
    _write(
        tmp_path / "pkg" / "templates" / "bad.html",
        "{% load i18n %}{% blocktranslate %}{% if x %}{% endblocktranslate %}",
    )
    with pytest.raises(i18n.ExtractionError, match="bad.html"):
        i18n.extract_messages(root=tmp_path / "pkg", base=tmp_path)


def _template(*ids) -> Catalog:
    catalog = Catalog()
    for msgid in ids:
        catalog.add(msgid, None, locations=[("pkg/x.py", 1)])
    return catalog


def test_update_keeps_translations_adds_new_untranslated_and_drops_obsolete(tmp_path):
    written, catalog = i18n.update_catalog("es", _template("Orders", "Invoices"), locale_dir=tmp_path)
    assert written
    catalog.get("Orders").string = "Pedidos"
    catalog.get("Invoices").string = "Facturas"
    i18n.po_path("es", tmp_path).write_bytes(i18n._po_bytes(catalog))

    written, catalog = i18n.update_catalog("es", _template("Orders", "Customers"), locale_dir=tmp_path)

    assert written
    on_disk = i18n.read_catalog("es", tmp_path)
    assert {m.id: m.string for m in on_disk if m.id} == {"Orders": "Pedidos", "Customers": ""}
    text = i18n.po_path("es", tmp_path).read_text(encoding="utf-8")
    assert "Facturas" not in text
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in text


def test_update_leaves_an_unchanged_catalogue_alone(tmp_path):
    i18n.update_catalog("pt_BR", _template("Orders"), locale_dir=tmp_path)
    before = i18n.po_path("pt_BR", tmp_path).read_bytes()

    written, _catalog = i18n.update_catalog("pt_BR", _template("Orders"), locale_dir=tmp_path)

    assert not written
    assert i18n.po_path("pt_BR", tmp_path).read_bytes() == before


@pytest.mark.parametrize(
    ("msgid", "translation", "ok"),
    [
        ("Hello %(name)s", "Olá %(name)s", True),
        ("Hello %(name)s", "Olá %(nome)s", False),
        ("Hello %(name)s", "Olá", False),
        ("Hello %(name)s", "Olá %(name)d", False),
        ("%s of %d", "%s de %d", True),
        ("%s of %d", "%d de %s", False),
        ("100%% of %(total)s", "100%% de %(total)s", True),
        ("100%% of %(total)s", "100% de %(total)s", False),
        ("Hello {name}", "Olá {name}", True),
        ("Hello {name}", "Olá {nome}", False),
        ("Hello {name}", "Olá {name", False),
        ("Plain text", "Texto simples", True),
    ],
)
def test_placeholder_check(msgid, translation, ok):
    message = Message(msgid, translation)
    assert (i18n.placeholder_errors(message) == []) is ok


def test_placeholder_check_on_plural_forms():
    source = ("%(count)s record", "%(count)s records")
    assert i18n.placeholder_errors(Message(source, ("%(count)s registro", "%(count)s registros"))) == []
    assert i18n.placeholder_errors(Message(source, ("um registro", "%(count)s registros"))) != []
    assert i18n.placeholder_errors(Message(source, ("%(count)s registro", "registros"))) != []


def _translations(mo: bytes) -> gettext.GNUTranslations:
    return gettext.GNUTranslations(io.BytesIO(mo))


def test_compile_writes_translations_and_leaves_out_broken_ones(tmp_path):
    catalog = Catalog(locale="pt_BR")
    catalog.add("Orders", "Pedidos")
    catalog.add("Hello %(name)s", "Olá %(nome)s")
    catalog.add("Draft", "Rascunho", flags=["fuzzy"])
    catalog.add("Open", "Aberto", context="order status")
    catalog.add(("%(count)s order", "%(count)s orders"), ("%(count)s pedido", "%(count)s pedidos"))

    compiled = _translations(i18n.mo_bytes(catalog))

    assert compiled.gettext("Orders") == "Pedidos"
    assert compiled.gettext("Hello %(name)s") == "Hello %(name)s"
    assert compiled.gettext("Draft") == "Draft"
    assert compiled.pgettext("order status", "Open") == "Aberto"
    assert compiled.ngettext("%(count)s order", "%(count)s orders", 1) == "%(count)s pedido"
    assert compiled.ngettext("%(count)s order", "%(count)s orders", 2) == "%(count)s pedidos"
    assert compiled.ngettext("%(count)s order", "%(count)s orders", 0) == "%(count)s pedido"  # pt_BR: n > 1


def test_check_reports_what_is_missing_untranslated_fuzzy_or_stale(tmp_path):
    template = _template("Orders", "Invoices", "Draft", "Hello %(name)s")
    _written, catalog = i18n.update_catalog("es", template, locale_dir=tmp_path)
    catalog.get("Orders").string = "Pedidos"
    catalog.get("Draft").string = "Borrador"
    catalog.get("Draft").flags.add("fuzzy")
    catalog.get("Hello %(name)s").string = "Hola %(nombre)s"
    i18n.po_path("es", tmp_path).write_bytes(i18n._po_bytes(catalog))
    i18n.compile_catalog("es", tmp_path)
    template.add("Customers", None)

    problems = {(p.kind, p.msgid) for p in i18n.find_problems(template, locales=["es"], locale_dir=tmp_path)}

    assert problems == {
        ("missing", "Customers"),
        ("untranslated", "Invoices"),
        ("fuzzy", "Draft"),
        ("placeholders", "Hello %(name)s"),
    }

    catalog.get("Invoices").string = "Facturas"
    i18n.po_path("es", tmp_path).write_bytes(i18n._po_bytes(catalog))
    kinds = {p.kind for p in i18n.find_problems(template, locales=["es"], locale_dir=tmp_path)}
    assert "stale-mo" in kinds
    assert "untranslated" not in kinds


def test_command_line_check_exits_non_zero_when_something_is_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(i18n, "extract_messages", lambda: _template("Orders"))
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    monkeypatch.setattr(i18n, "LOCALES", ("es",))
    i18n.update_catalog("es", _template(), locale_dir=tmp_path)
    i18n.compile_catalog("es", locale_dir=tmp_path)

    assert i18n.main(["check"]) == 1
    assert "es: missing: 'Orders'" in capsys.readouterr().out

    assert i18n.main(["bogus"]) == 2


def test_a_mo_from_another_babel_release_still_counts_as_compiled(tmp_path):
    i18n.update_catalog("pt_BR", _template("Orders"), locale_dir=tmp_path)
    catalog = i18n.read_catalog("pt_BR", tmp_path)
    catalog.get("Orders").string = "Pedidos"
    i18n.po_path("pt_BR", tmp_path).write_bytes(i18n._po_bytes(catalog))
    data = i18n.mo_bytes(catalog)
    generator = re.search(rb"Generated-By: Babel [0-9.]+", data)[0]
    i18n.mo_path("pt_BR", tmp_path).write_bytes(data.replace(generator, re.sub(rb"[0-9]", b"9", generator)))

    assert i18n.mo_is_current(catalog, i18n.mo_path("pt_BR", tmp_path))
    assert not i18n.compile_catalog("pt_BR", tmp_path)

    catalog.get("Orders").string = "Encomendas"
    assert not i18n.mo_is_current(catalog, i18n.mo_path("pt_BR", tmp_path))
