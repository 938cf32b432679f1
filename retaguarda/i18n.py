"""retaguarda's message catalogues (pt_BR, es) kept in step with the code, without GNU gettext.

    python -m retaguarda.i18n extract   # update locale/*/LC_MESSAGES/django.po from the code and templates
    python -m retaguarda.i18n compile   # write the .mo files Django reads
    python -m retaguarda.i18n check     # list what is missing, untranslated, fuzzy, mismatched or stale

Extraction does what Django's makemessages does with xgettext, in pure Python: Python files go
through babel's Python extractor with Django's gettext keywords; templates are first turned into
Python-like source by Django's own templatize() (the code makemessages uses), then go through the
same extractor. Tests and migrations are not shipped text and are skipped.
"""

from __future__ import annotations

import copy
import io
import re
import string
import sys
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract, extract_python
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT_DIR = PACKAGE_DIR.parent
LOCALE_DIR = PACKAGE_DIR / "locale"
LOCALES = ("pt_BR", "es")
DOMAIN = "django"
PROJECT = "retaguarda"

# Django's translation functions (makemessages passes the same list to xgettext).
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
COMMENT_TAGS = ("Translators",)
TEMPLATE_SUFFIXES = (".html", ".txt")
SKIPPED_DIRS = {"tests", "migrations", "locale", "static", "__pycache__", "node_modules"}

# A printf-style conversion as Python's % operator reads it.
PERCENT_SPEC = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?(?P<flags>[#0\- +]*)(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<type>[diouxXeEfFgGcrsa%])"
)
LEADING_WHITESPACE = re.compile(r"^[ \t\f]+", re.MULTILINE)


class ExtractionError(Exception):
    """A source file whose messages cannot be read (e.g. a malformed {% blocktranslate %})."""


# --- extraction ---------------------------------------------------------------------------------


def _source_files(root: Path) -> Iterator[tuple[Path, str]]:
    """(path, kind) of every file to scan under `root`, kind being "python" or "template", sorted."""
    for path in sorted(root.rglob("*")):
        relative_parts = path.relative_to(root).parts
        if any(part in SKIPPED_DIRS or part.startswith(".") for part in relative_parts[:-1]):
            continue
        if not path.is_file():
            continue
        if path.suffix == ".py":
            if path.name.startswith("test_") or path.name == "conftest.py":
                continue
            yield path, "python"
        elif path.suffix in TEMPLATE_SUFFIXES and "templates" in relative_parts[:-1]:
            yield path, "template"


def _python_source(path: Path, kind: str) -> bytes:
    if kind == "python":
        return path.read_bytes()
    from django.template import TemplateSyntaxError
    from django.utils.translation.template import templatize

    try:
        source = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    except (SyntaxError, TemplateSyntaxError, UnicodeDecodeError) as exc:
        raise ExtractionError(f"{path}: {exc}") from exc
    # templatize() keeps the template's indentation, which xgettext ignores but Python's tokenizer
    # (babel's) rejects when it dedents oddly; the calls sit on single lines, so drop it.
    return LEADING_WHITESPACE.sub("", source).encode("utf-8")


def extract_messages(root: Path | None = None, base: Path | None = None) -> Catalog:
    """The template catalogue (a POT in memory) of every message in the code and templates under `root`
    (default: the retaguarda package), with locations relative to `base` (default: the repository)."""
    root = root or PACKAGE_DIR
    base = base or ROOT_DIR
    catalog = Catalog(project=PROJECT, fuzzy=False, charset="utf-8")
    for path, kind in _source_files(root):
        location = path.relative_to(base).as_posix()
        source = _python_source(path, kind)
        try:
            found = list(
                extract(
                    extract_python,
                    io.BytesIO(source),
                    keywords=KEYWORDS,
                    comment_tags=COMMENT_TAGS,
                    options={"encoding": "utf-8"},
                    strip_comment_tags=False,
                )
            )
        except (SyntaxError, tokenize.TokenError) as exc:  # a broken Python file, or a template babel cannot read
            raise ExtractionError(f"{path}: {exc}") from exc
        for lineno, message, comments, context in found:
            catalog.add(message, None, locations=[(location, lineno)], auto_comments=comments, context=context)
    return catalog


# --- catalogue files ------------------------------------------------------------------------------


def po_path(locale: str, locale_dir: Path | None = None) -> Path:
    return (locale_dir or LOCALE_DIR) / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(locale: str, locale_dir: Path | None = None) -> Path:
    return (locale_dir or LOCALE_DIR) / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"


def read_catalog(locale: str, locale_dir: Path | None = None) -> Catalog | None:
    path = po_path(locale, locale_dir)
    if not path.exists():
        return None
    with path.open("rb") as fileobj:
        return read_po(fileobj, locale=locale, domain=DOMAIN, abort_invalid=True)


def _po_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    # File names without line numbers: the references stay useful and the .po does not change
    # every time someone adds a line above a message.
    write_po(buffer, catalog, width=100, ignore_obsolete=True, include_lineno=False)
    return buffer.getvalue()


_DATE_HEADERS = re.compile(rb'^"(POT-Creation-Date|PO-Revision-Date): .*\\n"$', re.MULTILINE)


def _without_dates(po: bytes) -> bytes:
    return _DATE_HEADERS.sub(b"", po)


def update_catalog(locale: str, template: Catalog, locale_dir: Path | None = None) -> tuple[bool, Catalog]:
    """Merge `template` into the locale's .po: keep translations, add new messages untranslated, drop
    messages no longer in the code. Writes the file only when something besides the dates changed.
    Returns (written, catalog)."""
    path = po_path(locale, locale_dir)
    existing = read_catalog(locale, locale_dir)
    if existing is None:
        catalog = Catalog(
            locale=locale,
            domain=DOMAIN,
            project=PROJECT,
            version=_version(),
            fuzzy=False,
            charset="utf-8",
            msgid_bugs_address="i18n@retaguarda.invalid",
            last_translator="retaguarda <i18n@retaguarda.invalid>",
            language_team=f"{locale} <i18n@retaguarda.invalid>",
            header_comment=(
                f"# {locale} translations of retaguarda, kept in step with the code by\n"
                "# `python -m retaguarda.i18n extract`; compiled with `python -m retaguarda.i18n compile`.\n"
                "# Distributed under the same license as retaguarda (AGPL-3.0-or-later).\n#"
            ),
        )
        before = b""
    else:
        catalog = existing
        before = path.read_bytes()
    catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
    catalog.obsolete.clear()
    catalog.fuzzy = False
    after = _po_bytes(catalog)
    if before and _without_dates(after) == _without_dates(before):
        return False, catalog
    now = datetime.now(UTC).replace(microsecond=0)
    if existing is None:
        catalog.creation_date = now
    catalog.revision_date = now
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_po_bytes(catalog))
    return True, catalog


def _version() -> str:
    try:
        from importlib.metadata import version

        return version(PROJECT)
    except Exception:  # not installed (running from a bare checkout)
        return "0"


# --- placeholders ---------------------------------------------------------------------------------


def _percent_placeholders(text: str) -> tuple[frozenset[tuple[str, str]], tuple[str, ...], bool]:
    """(named conversions, positional conversions in order, has a stray %) of a python-format text."""
    named: set[tuple[str, str]] = set()
    positional: list[str] = []
    for match in PERCENT_SPEC.finditer(text):
        if match["type"] == "%":
            continue
        if match["name"] is not None:
            named.add((match["name"], match["type"]))
        else:
            positional.append(match["type"])
    stray = "%" in PERCENT_SPEC.sub("", text)
    return frozenset(named), tuple(positional), stray


def _brace_fields(text: str) -> frozenset[str] | None:
    """Replacement fields of a str.format text, or None when the text is not a valid format string."""
    try:
        return frozenset(
            f"{name}!{conversion}" if conversion else name
            for _literal, name, _spec, conversion in string.Formatter().parse(text)
            if name is not None
        )
    except ValueError:
        return None


def _describe(named, positional) -> str:
    parts = [f"%({name}){kind}" for name, kind in sorted(named)] + [f"%{kind}" for kind in positional]
    return ", ".join(parts) or "none"


def placeholder_errors(message: Message) -> list[str]:
    """Why the translations of `message` would not format like its source text (empty when fine)."""
    if not message.id or not message.string:
        return []
    ids = list(message.id) if message.pluralizable else [message.id]
    strings = list(message.string) if message.pluralizable else [message.string]
    errors: list[str] = []
    percent = "python-format" in message.flags
    brace = "python-brace-format" in message.flags
    for index, translated in enumerate(strings):
        if not translated:
            continue
        sources = ids[:1] if index == 0 else ids[1:]
        if index == 0 and len(ids) > 1:
            # The first plural form may also cover other numbers (pt_BR says "0 item"): it may use
            # the plural text's placeholders too.
            sources = ids
        label = f"msgstr[{index}]" if message.pluralizable else "msgstr"
        if percent:
            want_named = [_percent_placeholders(s)[0] for s in sources]
            want_positional = [_percent_placeholders(s)[1] for s in sources]
            named, positional, stray = _percent_placeholders(translated)
            required = frozenset.intersection(*want_named)
            allowed = frozenset.union(*want_named)
            if not (required <= named <= allowed) or positional not in want_positional:
                errors.append(
                    f"{label} has placeholders {_describe(named, positional)}, "
                    f"the source has {_describe(want_named[-1], want_positional[-1])}"
                )
            if stray:
                errors.append(f"{label} has a lone '%' (write '%%' for a literal percent sign)")
        if brace:
            wanted = [_brace_fields(s) for s in sources]
            fields = _brace_fields(translated)
            if fields is None:
                errors.append(f"{label} is not a valid {{}}-format string")
            elif all(w is not None for w in wanted):
                required = frozenset.intersection(*wanted)
                allowed = frozenset.union(*wanted)
                if not (required <= fields <= allowed):
                    errors.append(
                        f"{label} has fields {{{', '.join(sorted(fields))}}}, "
                        f"the source has {{{', '.join(sorted(wanted[-1]))}}}"
                    )
    return errors


# --- compilation ----------------------------------------------------------------------------------


def mo_bytes(catalog: Catalog) -> bytes:
    """The .mo for `catalog`. Fuzzy, untranslated and placeholder-breaking translations are left out,
    so Django shows the English text instead of failing."""
    compiled = copy.deepcopy(catalog)
    for message in list(compiled):
        if message.id and (message.fuzzy or not _complete(message) or placeholder_errors(message)):
            compiled.delete(message.id, context=message.context)
    compiled.obsolete.clear()
    buffer = io.BytesIO()
    write_mo(buffer, compiled, use_fuzzy=False)
    return buffer.getvalue()


def _complete(message: Message) -> bool:
    if message.pluralizable:
        return isinstance(message.string, tuple | list) and all(message.string)
    return bool(message.string)


def _mo_content(data: bytes) -> tuple[dict[str, str], dict]:
    """(header fields, {(msgid, context): translation}) of a .mo; the header leaves out the generator's
    version, so a .mo written by another babel release still counts as the same."""
    catalog = read_mo(io.BytesIO(data))
    header: dict[str, str] = {}
    messages: dict = {}
    for message in catalog:
        if not message.id:
            for line in (message.string or "").splitlines():
                name, _sep, value = line.partition(":")
                if name.strip() and name.strip() != "Generated-By":
                    header[name.strip()] = value.strip()
            continue
        msgid = tuple(message.id) if isinstance(message.id, list | tuple) else message.id
        string = tuple(message.string) if isinstance(message.string, list | tuple) else message.string
        messages[(msgid, message.context)] = string
    return header, messages


def mo_is_current(catalog: Catalog, path: Path) -> bool:
    """Whether the .mo at `path` holds exactly what compiling `catalog` gives."""
    if not path.exists():
        return False
    try:
        return _mo_content(path.read_bytes()) == _mo_content(mo_bytes(catalog))
    except Exception:  # unreadable or truncated .mo
        return False


def compile_catalog(locale: str, locale_dir: Path | None = None) -> bool:
    """Write the locale's .mo from its .po; returns True when the file changed."""
    catalog = read_catalog(locale, locale_dir)
    if catalog is None:
        raise FileNotFoundError(po_path(locale, locale_dir))
    path = mo_path(locale, locale_dir)
    if mo_is_current(catalog, path):
        return False
    path.write_bytes(mo_bytes(catalog))
    return True


# --- check ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    locale: str
    kind: str  # missing | untranslated | fuzzy | placeholders | plural-forms | stale-mo | obsolete
    msgid: str
    context: str | None = None
    detail: str = ""
    where: str = ""

    @property
    def fatal(self) -> bool:
        return self.kind != "obsolete"

    def __str__(self) -> str:
        text = f"{self.locale}: {self.kind}: {self.msgid!r}"
        if self.context:
            text += f" (context {self.context!r})"
        if self.detail:
            text += f": {self.detail}"
        if self.where:
            text += f"  [{self.where}]"
        return text


def _key(message: Message):
    msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
    return (msgid, message.context)


def _where(message: Message) -> str:
    return ", ".join(dict.fromkeys(filename for filename, _lineno in message.locations))


def find_problems(
    template: Catalog | None = None, locales: Iterable[str] | None = None, locale_dir: Path | None = None
) -> list[Problem]:
    """Everything that stops the catalogues from covering `template` (default: the code) correctly."""
    if template is None:
        template = extract_messages()
    if locales is None:
        locales = LOCALES
    problems: list[Problem] = []
    for locale in locales:
        catalog = read_catalog(locale, locale_dir)
        if catalog is None:
            problems.append(Problem(locale, "missing", "", detail=f"no catalogue at {po_path(locale, locale_dir)}"))
            continue
        translated = {_key(m): m for m in catalog if m.id}
        for source in template:
            if not source.id:
                continue
            key = _key(source)
            msgid, context = key
            where = _where(source)
            message = translated.get(key)
            if message is None:
                problems.append(Problem(locale, "missing", msgid, context, where=where))
                continue
            if source.pluralizable != message.pluralizable:
                problems.append(Problem(locale, "missing", msgid, context, "singular/plural changed", where))
                continue
            if message.fuzzy:
                problems.append(Problem(locale, "fuzzy", msgid, context, where=where))
            elif not _complete(message):
                problems.append(Problem(locale, "untranslated", msgid, context, where=where))
            elif message.pluralizable and len(message.string) != catalog.num_plurals:
                detail = f"{len(message.string)} forms, the language has {catalog.num_plurals}"
                problems.append(Problem(locale, "plural-forms", msgid, context, detail, where))
            for error in placeholder_errors(message):
                problems.append(Problem(locale, "placeholders", msgid, context, error, where))
        expected = {_key(m) for m in template if m.id}
        for key in translated:
            if key not in expected:
                problems.append(Problem(locale, "obsolete", key[0], key[1], "run `extract`"))
        path = mo_path(locale, locale_dir)
        if not mo_is_current(catalog, path):
            problems.append(
                Problem(locale, "stale-mo", "", detail=f"{path} is not compiled from the .po: run `compile`")
            )
    return problems


def catalog_counts(locales: Iterable[str] | None = None, locale_dir: Path | None = None) -> dict[str, tuple[int, int]]:
    """{locale: (messages, translated)}."""
    counts = {}
    for locale in LOCALES if locales is None else locales:
        catalog = read_catalog(locale, locale_dir)
        messages = [m for m in catalog or () if m.id]
        counts[locale] = (len(messages), sum(1 for m in messages if _complete(m) and not m.fuzzy))
    return counts


# --- command line -------------------------------------------------------------------------------


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT_DIR)) if path.is_relative_to(ROOT_DIR) else str(path)


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in {"extract", "compile", "check"}:
        sys.stderr.write("usage: python -m retaguarda.i18n extract|compile|check\n")
        return 2
    command = args[0]
    try:
        if command == "extract":
            template = extract_messages()
            _out(f"{len([m for m in template if m.id])} messages in the code and templates")
            for locale in LOCALES:
                written, catalog = update_catalog(locale, template)
                todo = sum(1 for m in catalog if m.id and (m.fuzzy or not _complete(m)))
                state = "updated" if written else "unchanged"
                _out(f"{_shown(po_path(locale))}: {state}, {todo} to translate")
            return 0
        if command == "compile":
            failed = False
            for locale in LOCALES:
                changed = compile_catalog(locale)
                _out(f"{_shown(mo_path(locale))}: {'written' if changed else 'up to date'}")
                catalog = read_catalog(locale)
                for message in catalog:
                    for error in placeholder_errors(message):
                        failed = True
                        _out(f"  left out {message.id!r}: {error}")
            return 1 if failed else 0
        problems = find_problems()
        for problem in problems:
            _out(str(problem))
        for locale, (total, done) in catalog_counts().items():
            _out(f"{locale}: {total} messages, {done} translated")
        fatal = [p for p in problems if p.fatal]
        _out(f"{len(fatal)} problem(s)" if fatal else "catalogues complete")
        return 1 if fatal else 0
    except ExtractionError as exc:
        sys.stderr.write(f"cannot extract messages: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
