"""The importdata / exportdata commands (in web) driving the product and party imports."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from retaguarda.catalog.models import Product
from retaguarda.catalog.testing import catalog_defaults_build, product_build
from retaguarda.common.taxids import tax_id_example
from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog
from retaguarda.core.testing import company_build, user_build
from retaguarda.parties.models import Party
from retaguarda.parties.testing import party_build


def run(*args, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def manager(company):
    catalog_defaults_build(company)
    return user_build(company, Role.MANAGER, username="importer")


def test_importdata_products_with_progress_bars(company, manager, tmp_path):
    path = tmp_path / "products.csv"
    path.write_text("sku;name;uom;tax_category\n" + "".join(f"C-{i};Item {i};un;standard\n" for i in range(2500)))

    out, err = run("importdata", "products", str(path), company=str(company.pk), user="importer")

    assert out == f"{path}: 2500 rows, 2500 products created, 0 updated.\n"
    assert "checking: 100%" in err and "2500/2500" in err
    assert "writing: 100%" in err
    assert Product.objects.filter(company=company).count() == 2500
    audit = AuditLog.objects.get(company=company, action="products.import")
    assert (audit.actor_label, audit.after["created"]) == ("importer", 2500)


def test_importdata_prints_the_errors_in_the_users_language_and_fails(company, tmp_path):
    catalog_defaults_build(company)
    user_build(company, Role.ADMINISTRATOR, username="ana", language="es")
    path = tmp_path / "products.csv"
    path.write_text("sku,name,uom,tax_category\nA,a,un,standard\nB,b,crate,standard\nC,c,un,standard\n")

    err = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command(
            "importdata", "products", str(path), company=str(company.pk), user="ana", no_progress=True, stderr=err
        )

    assert exc.value.returncode == 1
    assert str(exc.value) == f"{path} was rejected: 1 errors in 1 rows; nothing was imported."
    assert err.getvalue() == "Fila 3, uom: Unidad de medida desconocida.\n"
    assert Product.objects.count() == 0
    assert AuditLog.objects.filter(action="products.import").count() == 0


def test_importdata_refuses_a_user_without_the_permission(company, tmp_path):
    catalog_defaults_build(company)
    user_build(company, Role.SALES, username="seller")
    path = tmp_path / "products.csv"
    path.write_text("sku,name,uom,tax_category\nA,a,un,standard\n")
    with pytest.raises(CommandError, match="You do not have permission to do this."):
        run("importdata", "products", str(path), company=str(company.pk), user="seller", no_progress=True)
    assert Product.objects.count() == 0


def test_importdata_refuses_a_user_of_another_company(company, tmp_path):
    other = company_build(country="BR")
    user_build(other, Role.ADMINISTRATOR, username="outsider")
    path = tmp_path / "products.csv"
    path.write_text("sku,name,uom,tax_category\nA,a,un,standard\n")
    with pytest.raises(CommandError, match="outsider has no access to"):
        run("importdata", "products", str(path), company=str(company.pk), user="outsider")


def test_importdata_customers_and_suppliers(company, manager, tmp_path):
    path = tmp_path / "parties.csv"
    dni = tax_id_example(country="ES", kind="person", seed=3)
    path.write_text(f"legal_name,kind,tax_id\nAna,person,{dni}\n")
    run("importdata", "suppliers", str(path), company=str(company.pk), user="importer", no_progress=True)
    assert list(Party.objects.values_list("legal_name", "is_customer", "is_supplier")) == [("Ana", False, True)]
    with pytest.raises(CommandError, match="was rejected: 1 errors in 1 rows"):
        run("importdata", "customers", str(path), company=str(company.pk), user="importer", no_progress=True)
    assert Party.objects.count() == 1


def test_exportdata_then_importdata_round_trip(company, manager, tmp_path):
    product_build(company, sku="RT-1", name="Caneca", list_price="12.50", barcode="7891234567895")
    party_build(company, legal_name="Ana SL")
    other = company_build(country="ES")
    catalog_defaults_build(other)
    user_build(other, Role.ADMINISTRATOR, username="other-admin")

    for kind, name in (("products", "p.xlsx"), ("parties", "c.csv")):
        path = tmp_path / name
        _out, err = run("exportdata", kind, str(path), company=str(company.pk))
        assert err == f"{path}: 1 {kind} written.\n"
        import_kind = "products" if kind == "products" else "customers"
        run("importdata", import_kind, str(path), company=str(other.pk), user="other-admin", no_progress=True)

    product = Product.objects.get(company=other)
    assert (product.sku, product.name, str(product.list_price), product.barcode) == (
        "RT-1",
        "Caneca",
        "12.50",
        "7891234567895",
    )
    assert list(Party.objects.filter(company=other).values_list("legal_name", flat=True)) == ["Ana SL"]
    assert not list(tmp_path.glob("*.partial"))


def test_exportdata_to_stdout_and_bad_names(company, capsysbinary):
    product_build(company, sku="S-1")
    call_command("exportdata", "products", "-", company=str(company.pk))
    assert capsysbinary.readouterr().out.decode("utf-8-sig").startswith("sku,barcode,name")
    with pytest.raises(CommandError, match="name the file .csv or .xlsx"):
        call_command("exportdata", "products", "out.txt", company=str(company.pk))
    with pytest.raises(CommandError, match="no company"):
        call_command("exportdata", "products", "out.csv", company="999999")
