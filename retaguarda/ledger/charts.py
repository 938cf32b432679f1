"""Charts of accounts installed with each company: Spain's PGC PYMES, a simplified Brazilian
chart, and a generic IFRS-like chart for other countries, with their journals and the fiscal
year of the current calendar year."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from retaguarda.core.models import Company

from .choices import AccountKind, JournalKind
from .choices import AccountRole as R
from .models import Account, Journal

A, L, Q, INC, E = AccountKind.ASSET, AccountKind.LIABILITY, AccountKind.EQUITY, AccountKind.INCOME, AccountKind.EXPENSE


@dataclass(frozen=True)
class AccountTemplate:
    code: str
    name: str
    kind: str
    role: str = ""
    reconcilable: bool = False


@dataclass(frozen=True)
class ChartTemplate:
    key: str
    accounts: tuple[AccountTemplate, ...]
    journals: dict[str, tuple[str, str]]  # JournalKind -> (code, name)
    separator: str = ""  # between levels of a code ("." in Brazil); "" means one digit per level

    def parent_code(self, code: str) -> str | None:
        """The code of the account one level up, if the chart has it."""
        if self.separator:
            head, sep, _tail = code.rpartition(self.separator)
            return head if sep else None
        # Group accounts are the one-digit codes; every longer code hangs under its group.
        return code[0] if len(code) > 1 else None


def _t(code, name, kind, role="", reconcilable=False) -> AccountTemplate:
    return AccountTemplate(code, name, kind, role, reconcilable)


SPAIN_PGC = ChartTemplate(
    key="es_pgc_pymes",
    separator="",
    journals={
        JournalKind.SALES: ("VEN", "Ventas"),
        JournalKind.PURCHASES: ("COM", "Compras"),
        JournalKind.BANK: ("BAN", "Bancos"),
        JournalKind.CASH: ("CAJ", "Caja"),
        JournalKind.STOCK: ("ALM", "Almacén"),
        JournalKind.GENERAL: ("GEN", "Operaciones diversas"),
    },
    accounts=(
        _t("1", "Financiación básica", Q),
        _t("100", "Capital social", Q, R.EQUITY),
        _t("112", "Reserva legal", Q),
        _t("113", "Reservas voluntarias", Q),
        _t("120", "Remanente", Q),
        _t("129", "Resultado del ejercicio", Q, R.RETAINED_EARNINGS),
        _t("170", "Deudas a largo plazo con entidades de crédito", L),
        _t("2", "Activo no corriente", A),
        _t("216", "Mobiliario", A),
        _t("217", "Equipos para procesos de información", A),
        _t("218", "Elementos de transporte", A),
        _t("281", "Amortización acumulada del inmovilizado material", A),
        _t("3", "Existencias", A),
        _t("300", "Mercaderías", A, R.INVENTORY),
        _t("4", "Acreedores y deudores por operaciones comerciales", A),
        _t("400", "Proveedores", L, R.PAYABLE, True),
        _t("410", "Acreedores por prestaciones de servicios", L, "", True),
        _t("430", "Clientes", A, R.RECEIVABLE, True),
        _t("436", "Clientes de dudoso cobro", A, "", True),
        _t("438", "Anticipos de clientes", L, R.CUSTOMER_ADVANCES, True),
        _t("465", "Remuneraciones pendientes de pago", L),
        _t("472", "Hacienda Pública, IVA soportado", A, R.TAX_RECEIVABLE),
        _t("473", "Hacienda Pública, retenciones y pagos a cuenta", A, R.TAX_WITHHELD),
        _t("475", "Hacienda Pública, acreedora por conceptos fiscales", L),
        _t("476", "Organismos de la Seguridad Social, acreedores", L),
        _t("477", "Hacienda Pública, IVA repercutido", L, R.TAX_PAYABLE),
        _t("5", "Cuentas financieras", A),
        _t("520", "Deudas a corto plazo con entidades de crédito", L),
        _t("555", "Partidas pendientes de aplicación", A),
        _t("570", "Caja, euros", A, R.CASH),
        _t("572", "Bancos e instituciones de crédito c/c vista, euros", A, R.BANK),
        _t("6", "Compras y gastos", E),
        _t("600", "Compras de mercaderías", E, R.PURCHASES),
        _t("610", "Variación de existencias de mercaderías", E, R.COST_OF_GOODS),
        _t("621", "Arrendamientos y cánones", E),
        _t("623", "Servicios de profesionales independientes", E),
        _t("624", "Transportes", E),
        _t("625", "Primas de seguros", E),
        _t("626", "Servicios bancarios y similares", E),
        _t("627", "Publicidad, propaganda y relaciones públicas", E),
        _t("628", "Suministros", E),
        _t("629", "Otros servicios", E),
        _t("630", "Impuesto sobre beneficios", E),
        _t("631", "Otros tributos", E),
        _t("640", "Sueldos y salarios", E),
        _t("642", "Seguridad Social a cargo de la empresa", E),
        _t("650", "Pérdidas de créditos comerciales incobrables", E, R.BAD_DEBT),
        _t("659", "Otras pérdidas en gestión corriente", E, R.ROUNDING),
        _t("662", "Intereses de deudas", E),
        _t("668", "Diferencias negativas de cambio", E, R.EXCHANGE_LOSS),
        _t("669", "Otros gastos financieros", E),
        _t("678", "Gastos excepcionales", E, R.INVENTORY_LOSS),
        _t("681", "Amortización del inmovilizado material", E),
        _t("7", "Ventas e ingresos", INC),
        _t("700", "Ventas de mercaderías", INC, R.REVENUE),
        _t("705", "Prestaciones de servicios", INC, R.SERVICE_REVENUE),
        _t("708", "Devoluciones de ventas y operaciones similares", INC, R.SALES_RETURNS),
        _t("709", "Rappels sobre ventas", INC),
        _t("759", "Ingresos por servicios diversos", INC),
        _t("768", "Diferencias positivas de cambio", INC, R.EXCHANGE_GAIN),
        _t("769", "Otros ingresos financieros", INC, R.LATE_FEES),
        _t("778", "Ingresos excepcionales", INC),
    ),
)

BRAZIL_SIMPLIFIED = ChartTemplate(
    key="br_simplificado",
    separator=".",
    journals={
        JournalKind.SALES: ("VEN", "Vendas"),
        JournalKind.PURCHASES: ("COM", "Compras"),
        JournalKind.BANK: ("BAN", "Bancos"),
        JournalKind.CASH: ("CX", "Caixa"),
        JournalKind.STOCK: ("EST", "Estoque"),
        JournalKind.GENERAL: ("GER", "Lançamentos gerais"),
    },
    accounts=(
        _t("1", "Ativo", A),
        _t("1.1", "Ativo circulante", A),
        _t("1.1.1", "Disponível", A),
        _t("1.1.1.01", "Caixa", A, R.CASH),
        _t("1.1.1.02", "Bancos conta movimento", A, R.BANK),
        _t("1.1.2", "Clientes", A),
        _t("1.1.2.01", "Clientes", A, R.RECEIVABLE, True),
        _t("1.1.2.02", "(-) Perdas estimadas com créditos de liquidação duvidosa", A),
        _t("1.1.3", "Outros créditos", A),
        _t("1.1.3.01", "Adiantamentos a fornecedores", A, "", True),
        _t("1.1.4", "Estoques", A),
        _t("1.1.4.01", "Estoque de mercadorias", A, R.INVENTORY),
        _t("1.1.5", "Impostos a recuperar", A),
        _t("1.1.5.01", "ICMS a recuperar", A, R.TAX_RECEIVABLE),
        _t("1.1.5.02", "IPI a recuperar", A),
        _t("1.1.5.03", "PIS a recuperar", A),
        _t("1.1.5.04", "COFINS a recuperar", A),
        _t("1.1.5.05", "IRRF e contribuições retidos a compensar", A, R.TAX_WITHHELD),
        _t("1.2", "Ativo não circulante", A),
        _t("1.2.3", "Imobilizado", A),
        _t("1.2.3.01", "Móveis e utensílios", A),
        _t("1.2.3.02", "Veículos", A),
        _t("1.2.3.03", "Computadores e periféricos", A),
        _t("1.2.3.99", "(-) Depreciação acumulada", A),
        _t("2", "Passivo", L),
        _t("2.1", "Passivo circulante", L),
        _t("2.1.1", "Fornecedores", L),
        _t("2.1.1.01", "Fornecedores", L, R.PAYABLE, True),
        _t("2.1.2", "Obrigações trabalhistas", L),
        _t("2.1.2.01", "Salários a pagar", L),
        _t("2.1.2.02", "INSS a recolher", L),
        _t("2.1.2.03", "FGTS a recolher", L),
        _t("2.1.3", "Obrigações tributárias", L),
        _t("2.1.3.01", "ICMS a recolher", L, R.TAX_PAYABLE),
        _t("2.1.3.02", "IPI a recolher", L),
        _t("2.1.3.03", "PIS a recolher", L),
        _t("2.1.3.04", "COFINS a recolher", L),
        _t("2.1.3.05", "Simples Nacional a recolher", L),
        _t("2.1.3.06", "IRPJ e CSLL a recolher", L),
        _t("2.1.4", "Outras obrigações", L),
        _t("2.1.4.01", "Adiantamentos de clientes", L, R.CUSTOMER_ADVANCES, True),
        _t("2.1.4.02", "Empréstimos e financiamentos", L),
        _t("2.4", "Patrimônio líquido", Q),
        _t("2.4.1", "Capital social", Q),
        _t("2.4.1.01", "Capital social", Q, R.EQUITY),
        _t("2.4.2", "Reservas de lucros", Q),
        _t("2.4.2.01", "Reserva legal", Q),
        _t("2.4.3", "Lucros ou prejuízos acumulados", Q),
        _t("2.4.3.01", "Lucros acumulados", Q, R.RETAINED_EARNINGS),
        _t("3", "Receitas", INC),
        _t("3.1", "Receita operacional", INC),
        _t("3.1.1", "Receita bruta", INC),
        _t("3.1.1.01", "Receita de vendas de mercadorias", INC, R.REVENUE),
        _t("3.1.1.02", "Receita de prestação de serviços", INC, R.SERVICE_REVENUE),
        _t("3.1.2", "Deduções da receita bruta", INC),
        _t("3.1.2.01", "Devoluções e abatimentos de vendas", INC, R.SALES_RETURNS),
        _t("3.1.2.02", "ICMS sobre vendas", INC),
        _t("3.1.2.03", "PIS sobre faturamento", INC),
        _t("3.1.2.04", "COFINS sobre faturamento", INC),
        _t("3.2", "Receitas financeiras", INC),
        _t("3.2.1", "Receitas financeiras", INC),
        _t("3.2.1.01", "Juros e multas recebidos", INC, R.LATE_FEES),
        _t("3.2.1.02", "Variação cambial ativa", INC, R.EXCHANGE_GAIN),
        _t("3.2.1.03", "Descontos obtidos", INC),
        _t("4", "Custos e despesas", E),
        _t("4.1", "Custos", E),
        _t("4.1.1", "Custo das mercadorias vendidas", E),
        _t("4.1.1.01", "Custo das mercadorias vendidas (CMV)", E, R.COST_OF_GOODS),
        _t("4.1.1.02", "Compras de mercadorias", E, R.PURCHASES),
        _t("4.1.1.03", "Perdas de estoque", E, R.INVENTORY_LOSS),
        _t("4.2", "Despesas operacionais", E),
        _t("4.2.1", "Despesas administrativas", E),
        _t("4.2.1.01", "Salários e ordenados", E),
        _t("4.2.1.02", "Encargos sociais", E),
        _t("4.2.1.03", "Aluguéis", E),
        _t("4.2.1.04", "Energia elétrica, água e telefone", E),
        _t("4.2.1.05", "Serviços de terceiros", E),
        _t("4.2.1.06", "Depreciação", E),
        _t("4.2.2", "Despesas com vendas", E),
        _t("4.2.2.01", "Fretes e carretos", E),
        _t("4.2.2.02", "Publicidade e propaganda", E),
        _t("4.2.2.03", "Perdas com clientes", E, R.BAD_DEBT),
        _t("4.3", "Despesas financeiras", E),
        _t("4.3.1", "Despesas financeiras", E),
        _t("4.3.1.01", "Juros e tarifas bancárias", E),
        _t("4.3.1.02", "Variação cambial passiva", E, R.EXCHANGE_LOSS),
        _t("4.3.1.03", "Descontos concedidos", E),
        _t("4.4", "Outras despesas", E),
        _t("4.4.1", "Outras despesas", E),
        _t("4.4.1.01", "Arredondamentos", E, R.ROUNDING),
        _t("4.5", "Impostos sobre o lucro", E),
        _t("4.5.1", "Impostos sobre o lucro", E),
        _t("4.5.1.01", "IRPJ", E),
        _t("4.5.1.02", "CSLL", E),
    ),
)

GENERIC = ChartTemplate(
    key="generic",
    separator="",
    journals={
        JournalKind.SALES: ("SAL", "Sales"),
        JournalKind.PURCHASES: ("PUR", "Purchases"),
        JournalKind.BANK: ("BNK", "Bank"),
        JournalKind.CASH: ("CSH", "Cash"),
        JournalKind.STOCK: ("STK", "Stock"),
        JournalKind.GENERAL: ("GEN", "General"),
    },
    accounts=(
        _t("1", "Assets", A),
        _t("1000", "Cash on hand", A, R.CASH),
        _t("1010", "Bank accounts", A, R.BANK),
        _t("1100", "Trade receivables", A, R.RECEIVABLE, True),
        _t("1150", "Allowance for doubtful receivables", A),
        _t("1200", "Inventories", A, R.INVENTORY),
        _t("1300", "Input tax recoverable", A, R.TAX_RECEIVABLE),
        _t("1310", "Tax withheld by customers", A, R.TAX_WITHHELD),
        _t("1400", "Prepayments to suppliers", A, "", True),
        _t("1600", "Property, plant and equipment", A),
        _t("1690", "Accumulated depreciation", A),
        _t("2", "Liabilities", L),
        _t("2000", "Trade payables", L, R.PAYABLE, True),
        _t("2100", "Output tax payable", L, R.TAX_PAYABLE),
        _t("2200", "Customer advances and credit", L, R.CUSTOMER_ADVANCES, True),
        _t("2300", "Accrued expenses", L),
        _t("2400", "Payroll liabilities", L),
        _t("2500", "Borrowings", L),
        _t("3", "Equity", Q),
        _t("3000", "Share capital", Q, R.EQUITY),
        _t("3100", "Retained earnings", Q, R.RETAINED_EARNINGS),
        _t("3200", "Other reserves", Q),
        _t("4", "Income", INC),
        _t("4000", "Revenue from sale of goods", INC, R.REVENUE),
        _t("4100", "Revenue from services", INC, R.SERVICE_REVENUE),
        _t("4200", "Sales returns and discounts", INC, R.SALES_RETURNS),
        _t("4500", "Other income", INC),
        _t("4600", "Interest and late-payment fees", INC, R.LATE_FEES),
        _t("4700", "Foreign exchange gains", INC, R.EXCHANGE_GAIN),
        _t("5", "Expenses", E),
        _t("5000", "Cost of goods sold", E, R.COST_OF_GOODS),
        _t("5050", "Inventory losses and write-downs", E, R.INVENTORY_LOSS),
        _t("5100", "Purchases and other expenses", E, R.PURCHASES),
        _t("5200", "Salaries and wages", E),
        _t("5300", "Rent", E),
        _t("5400", "Utilities", E),
        _t("5500", "Depreciation", E),
        _t("5600", "Impairment of trade receivables", E, R.BAD_DEBT),
        _t("5700", "Finance costs", E),
        _t("5800", "Foreign exchange losses", E, R.EXCHANGE_LOSS),
        _t("5900", "Rounding differences", E, R.ROUNDING),
        _t("5950", "Income tax expense", E),
    ),
)

TEMPLATES: dict[str, ChartTemplate] = {t.key: t for t in (SPAIN_PGC, BRAZIL_SIMPLIFIED, GENERIC)}


def template_for(country: str) -> ChartTemplate:
    return {"ES": SPAIN_PGC, "BR": BRAZIL_SIMPLIFIED}.get(country, GENERIC)


def _depth(template: ChartTemplate, code: str) -> int:
    depth = 0
    while (code := template.parent_code(code)) is not None:
        depth += 1
    return depth


@transaction.atomic
def chart_install(company: Company, template: ChartTemplate | None = None) -> None:
    """Install the chart of `company`'s country, one journal per kind, and the fiscal year of
    the current calendar year with its periods and balance rows.

    Runs inside company_create (a COMPANY_CREATED_HOOK); there is no permission above it.
    Accounts are inserted one level at a time so each row can point to its parent: a handful
    of queries whatever the size of the chart.
    """
    from .services import fiscal_year_ensure

    template = template or template_for(company.country)
    by_code: dict[str, Account] = {}
    levels: dict[int, list[AccountTemplate]] = {}
    for row in template.accounts:
        levels.setdefault(_depth(template, row.code), []).append(row)
    for depth in sorted(levels):
        batch = []
        for row in levels[depth]:
            parent_code = template.parent_code(row.code)
            batch.append(
                Account(
                    company=company,
                    code=row.code,
                    name=row.name,
                    kind=row.kind,
                    role=row.role,
                    reconcilable=row.reconcilable,
                    parent=by_code.get(parent_code) if parent_code else None,
                )
            )
        for account in Account.objects.bulk_create(batch):
            by_code[account.code] = account
    Journal.objects.bulk_create(
        [Journal(company=company, code=code, name=name, kind=kind) for kind, (code, name) in template.journals.items()]
    )
    fiscal_year_ensure(company=company, year=timezone.localdate().year)


def ledger_ensure(company: Company) -> bool:
    """Install the chart for a company created before the ledger existed; True if installed."""
    if Account.objects.filter(company=company).exists():
        return False
    chart_install(company)
    return True
