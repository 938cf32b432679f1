"""The demo stores and their surroundings: company, staff logins, people's names, cities, suppliers.

Brazil: Casa Aurora, a home-and-kitchen online store in São Paulo (Simples Nacional).
Spain: Tienda Brisa, the same kind of store in Valencia. All e-mail addresses use the reserved
`.example` domains and example.com/.net/.org, so nothing sent from a demo can reach anyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from retaguarda.core.choices import Area, Role

# One password for every demo login: easy to remember, long enough for the password rules.
DEMO_PASSWORD = "retaguarda-demo"

# The user who administers every demo company on the instance (switch company from the menu).
SHARED_ADMIN = "admin"

ROLE_USERNAMES = (
    (Role.ADMINISTRATOR, "admin"),
    (Role.MANAGER, "manager"),
    (Role.SALES, "sales"),
    (Role.WAREHOUSE, "warehouse"),
    (Role.FINANCE, "finance"),
    (Role.HR, "hr"),
    (Role.SUPPORT, "support"),
    (Role.LEGAL, "legal"),
    (Role.PARTNER, "partner"),
)
PARTNER_AREAS = (Area.ACCOUNTING,)

# How many of each the demo creates.
CUSTOMER_COUNT = 500
SUPPLIER_COUNT = 40


def _list(text: str) -> tuple[str, ...]:
    """Names written as "Ana | Beatriz | …" across lines, as a tuple."""
    return tuple(item.strip() for item in " ".join(text.split()).split("|"))


@dataclass(frozen=True)
class City:
    name: str
    state: str
    # Inclusive range of BR CEP prefixes (the first five digits) or of ES códigos postales.
    postal_range: tuple[int, int]
    weight: int
    districts: tuple[str, ...]  # given as "Pinheiros | Moema | …"
    phone_area: str

    def __post_init__(self):
        if isinstance(self.districts, str):
            object.__setattr__(self, "districts", _list(self.districts))


@dataclass(frozen=True)
class Staff:
    role: str
    username: str
    first_name: str
    last_name: str


@dataclass(frozen=True)
class CountryDemo:
    country: str
    legal_name: str
    trade_name: str
    currency: str
    language: str
    username_suffix: str
    email_domain: str
    fiscal_settings: dict
    # GS1 company prefix: 789 (GS1 Brasil) or 84 (GS1 Spain) and a made-up company number.
    gs1_prefix: str
    staff_names: tuple[tuple[str, str], ...]
    first_names: tuple[str, ...]
    surnames: tuple[str, ...]
    two_surnames: bool
    cities: tuple[City, ...]
    street_types: tuple[str, ...]
    street_names: tuple[str, ...]
    complements: tuple[str, ...]
    business_kinds: tuple[str, ...]
    business_names: tuple[str, ...]
    company_suffixes: tuple[str, ...]
    supplier_cities: tuple[City, ...]
    supplier_kinds: tuple[str, ...]
    supplier_names: tuple[str, ...]
    contact_roles: tuple[str, ...]
    payment_terms: tuple[tuple[str, int], ...]  # (name, days)
    price_list_name: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    # Sales policy: confirm orders whose stock is short, the rest waiting (Casa Aurora does).
    allow_backorders: bool = False

    def username(self, base: str) -> str:
        return base + self.username_suffix

    def staff(self) -> list[Staff]:
        return [
            Staff(role, self.username(base), first, last)
            for (role, base), (first, last) in zip(ROLE_USERNAMES, self.staff_names, strict=True)
        ]


BRAZIL = CountryDemo(
    country="BR",
    legal_name="Casa Aurora Comércio Eletrônico Ltda",
    allow_backorders=True,
    trade_name="Casa Aurora",
    currency="BRL",
    language="pt-br",
    username_suffix="",
    email_domain="casa-aurora.example",
    fiscal_settings={
        "regime": "simples_nacional",
        "state": "SP",
        "municipality": "São Paulo",
        "municipality_code": "3550308",
        "city_code": "3550308",
        "city": "São Paulo",
        "street": "Rua Harmonia",
        "number": "1250",
        "district": "Vila Madalena",
        "postal_code": "05435-001",
        "pix_key": "financeiro@casa-aurora.example",
        "rounding": "line",
    },
    gs1_prefix="7898357",
    staff_names=(
        ("Helena", "Vasconcelos"),
        ("Rafael", "Monteiro"),
        ("Juliana", "Prado"),
        ("Diego", "Nascimento"),
        ("Camila", "Teixeira"),
        ("Patrícia", "Lacerda"),
        ("Bruno", "Okamoto"),
        ("Marina", "Albuquerque"),
        ("Sérgio", "Bastos"),
    ),
    first_names=_list(
        """
        Ana | Beatriz | Bruna | Carla | Carolina | Cecília | Daniela | Eduarda | Fernanda | Gabriela | Isabela |
        Júlia | Larissa | Letícia | Luana | Mariana | Natália | Patrícia | Renata | Sofia | Tatiane | Vanessa |
        Alice | Helena | Laura | André | Antônio | Arthur | Bernardo | Caio | Carlos | Daniel | Eduardo | Felipe |
        Fernando | Gabriel | Guilherme | Gustavo | Henrique | João | José | Leonardo | Lucas | Marcelo | Mateus |
        Paulo | Pedro | Rafael | Rodrigo | Thiago
        """
    ),
    surnames=_list(
        """
        Silva | Santos | Oliveira | Souza | Rodrigues | Ferreira | Alves | Pereira | Lima | Gomes | Costa |
        Ribeiro | Martins | Carvalho | Almeida | Lopes | Soares | Fernandes | Vieira | Barbosa | Rocha | Dias |
        Nascimento | Andrade | Moreira | Nunes | Marques | Machado | Mendes | Freitas | Cardoso | Ramos |
        Gonçalves | Santana | Teixeira | Araújo | Cavalcanti | Moura | Yamamoto | Nakamura | Rossi | Ferraz |
        Bezerra | Pinheiro | Campos
        """
    ),
    two_surnames=False,
    cities=(
        City(
            "São Paulo",
            "SP",
            (1000, 5900),
            30,
            "Pinheiros | Vila Mariana | Moema | Perdizes | Tatuapé | Santana | Butantã | Consolação",
            "11",
        ),
        City("Campinas", "SP", (13010, 13100), 5, "Cambuí | Taquaral | Barão Geraldo", "19"),
        City("Santos", "SP", (11010, 11090), 3, "Gonzaga | Boqueirão | Ponta da Praia", "13"),
        City("Ribeirão Preto", "SP", (14010, 14100), 3, "Jardim Sumaré | Centro | Ribeirânia", "16"),
        City(
            "Rio de Janeiro",
            "RJ",
            (20000, 23700),
            14,
            "Botafogo | Tijuca | Copacabana | Laranjeiras | Barra da Tijuca | Méier",
            "21",
        ),
        City("Niterói", "RJ", (24020, 24360), 2, "Icaraí | Santa Rosa | São Francisco", "21"),
        City("Belo Horizonte", "MG", (30110, 31990), 8, "Savassi | Funcionários | Pampulha", "31"),
        City("Curitiba", "PR", (80010, 82990), 6, "Batel | Água Verde | Cabral | Centro", "41"),
        City("Porto Alegre", "RS", (90010, 91990), 5, "Moinhos de Vento | Menino Deus | Bom Fim", "51"),
        City("Florianópolis", "SC", (88010, 88100), 3, "Trindade | Centro | Lagoa da Conceição", "48"),
        City("Salvador", "BA", (40010, 42590), 4, "Barra | Pituba | Rio Vermelho", "71"),
        City("Recife", "PE", (50010, 52990), 4, "Boa Viagem | Casa Forte | Espinheiro", "81"),
        City("Fortaleza", "CE", (60010, 61590), 3, "Meireles | Aldeota | Benfica", "85"),
        City("Brasília", "DF", (70040, 72790), 5, "Asa Sul | Asa Norte | Lago Sul | Sudoeste", "61"),
        City("Goiânia", "GO", (74010, 74890), 3, "Setor Bueno | Setor Marista | Setor Oeste", "62"),
        City("Belém", "PA", (66010, 66990), 1, "Nazaré | Umarizal | Batista Campos", "91"),
    ),
    street_types=_list("Rua | Rua | Rua | Avenida | Alameda | Travessa"),
    street_names=_list(
        """
        das Flores | Sete de Setembro | XV de Novembro | Tiradentes | Santos Dumont | Dom Pedro II |
        Marechal Deodoro | Barão do Rio Branco | das Palmeiras | dos Andradas | Afonso Pena | Rui Barbosa |
        Castro Alves | Machado de Assis | Cecília Meireles | José Bonifácio | Padre Anchieta | das Acácias |
        dos Ipês | do Comércio | Getúlio Vargas | Anita Garibaldi | Independência | São João | Visconde de Mauá |
        Olavo Bilac | Monteiro Lobato | Bela Vista | Primavera
        """
    ),
    complements=_list(
        "Apto 12 | Apto 31 | Apto 54 | Apto 102 | Apto 803 | Casa 2 | Bloco B, apto 21 | Sala 4 | Fundos"
    ),
    business_kinds=_list(
        """
        Pousada | Restaurante | Café | Padaria | Empório | Hotel | Bistrô | Floricultura | Ateliê | Escritório |
        Clínica | Espaço de Eventos
        """
    ),
    business_names=_list(
        """
        Mar Azul | Sabor da Terra | Jardim Secreto | Bela Vista | Recanto Verde | Flor de Lis | Vila Rica |
        Sol Nascente | Ponto de Encontro | Estrela do Sul | Casa Amarela | Porto Seguro | Raízes |
        Aroma da Serra | Boa Mesa | Cantinho | Alecrim | Manacá | Ipê Roxo | Pé de Café
        """
    ),
    company_suffixes=_list("Ltda | Ltda | Ltda | ME | S.A."),
    # Where the makers are: porcelain in Pedreira and Porto Ferreira, textiles in Blumenau…
    supplier_cities=(
        City("Pedreira", "SP", (13920, 13929), 3, "Centro | Jardim Andrade", "19"),
        City("Porto Ferreira", "SP", (13660, 13669), 3, "Centro | Vila Maria", "19"),
        City("Blumenau", "SC", (89010, 89099), 3, "Itoupava Norte | Garcia | Velha", "47"),
        City("Caxias do Sul", "RS", (95010, 95099), 2, "São Pelegrino | Exposição", "54"),
        City("São Bento do Sul", "SC", (89280, 89299), 2, "Centro | Rio Negro", "47"),
        City("São Paulo", "SP", (2000, 4999), 4, "Brás | Mooca | Vila Leopoldina | Barra Funda", "11"),
        City("Guarulhos", "SP", (7010, 7299), 2, "Cumbica | Vila Augusta", "11"),
        City("Campinas", "SP", (13010, 13100), 2, "Vila Industrial | Jardim do Trevo", "19"),
    ),
    supplier_kinds=_list(
        """
        Cerâmica | Têxtil | Vidraria | Metalúrgica | Cutelaria | Iluminação | Madeireira | Torrefação | Editora |
        Distribuidora | Eletroportáteis | Fiação | Velas e Aromas | Artefatos de Fibra
        """
    ),
    supplier_names=_list(
        """
        Serra Azul | Vale do Itajaí | Santa Clara | Horizonte | Boa Esperança | Três Rios | Bandeirantes |
        São Bento | Alvorada | Rio Claro | Nova Aliança | Pioneira | Bom Jardim | Capivari | Guarani | Monte Alegre
        """
    ),
    contact_roles=_list("Comercial | Financeiro | Logística | Compras | Atendimento"),
    payment_terms=(("À vista", 0), ("15 dias", 15), ("30 dias", 30), ("45 dias", 45), ("60 dias", 60)),
    price_list_name="Atacado (revenda)",
    notes=_list(
        """
        Prefere entrega no período da manhã. | Cliente desde a loja física; atendimento por WhatsApp. |
        Pede nota fiscal com o CNPJ da empresa. | Portaria 24 horas: pode deixar com o porteiro. |
        Compra para presentear; sempre pede embalagem.
        """
    ),
)

SPAIN = CountryDemo(
    country="ES",
    legal_name="Tienda Brisa SL",
    trade_name="Tienda Brisa",
    currency="EUR",
    language="es",
    username_suffix=".es",
    email_domain="tienda-brisa.example",
    fiscal_settings={
        "regime": "general",
        "province": "Valencia",
        "province_code": "46",
        "verifactu": True,
        "street": "Carrer de Sueca",
        "number": "41",
        "city": "València",
        "postal_code": "46006",
        "iban": "ES91 2100 0418 4502 0005 1332",
        "rounding": "line",
    },
    gs1_prefix="8437021",
    staff_names=(
        ("Lucía", "Serrano Vidal"),
        ("Javier", "Moreno Castillo"),
        ("Marta", "Ortega Ruiz"),
        ("Sergio", "Navarro Gil"),
        ("Elena", "Domínguez Vera"),
        ("Carmen", "Iglesias Soler"),
        ("Adrián", "Pastor Ferrer"),
        ("Nuria", "Calvo Peña"),
        ("Ignacio", "Rubio Marín"),
    ),
    first_names=_list(
        """
        Lucía | María | Paula | Laura | Marta | Sara | Carmen | Ana | Julia | Irene | Alba | Elena | Cristina |
        Nerea | Claudia | Andrea | Raquel | Beatriz | Sofía | Noelia | Pilar | Rocío | Inés | Alejandro | Daniel |
        Pablo | David | Javier | Adrián | Sergio | Carlos | Jorge | Álvaro | Diego | Miguel | Iván | Rubén | Hugo |
        Marcos | Raúl | Óscar | Jaime | Víctor | Mario | Iker | Xavier | Jordi | Aitor | Manuel | Antonio
        """
    ),
    surnames=_list(
        """
        García | Fernández | González | Rodríguez | López | Martínez | Sánchez | Pérez | Gómez | Martín | Jiménez |
        Ruiz | Hernández | Díaz | Moreno | Muñoz | Álvarez | Romero | Alonso | Gutiérrez | Navarro | Torres |
        Domínguez | Vázquez | Ramos | Gil | Ramírez | Serrano | Blanco | Molina | Morales | Suárez | Ortega |
        Delgado | Castro | Ortiz | Rubio | Marín | Sanz | Iglesias | Núñez | Medina | Garrido | Cortés | Castillo |
        Santos | Lozano | Guerrero | Cano | Prieto | Méndez | Cruz | Calvo | Gallego | Vidal | León | Herrera |
        Peña | Flores | Cabrera | Soler | Ferrer | Pastor | Vera | Puig | Mas | Arias
        """
    ),
    two_surnames=True,
    cities=(
        City(
            "Madrid",
            "Madrid",
            (28001, 28055),
            24,
            "Chamberí | Salamanca | Retiro | Arganzuela | Malasaña | Chamartín",
            "91",
        ),
        City("Barcelona", "Barcelona", (8001, 8042), 18, "Eixample | Gràcia | Sants | Poblenou | Sarrià", "93"),
        City("Valencia", "Valencia", (46001, 46026), 12, "Ruzafa | El Carmen | Benimaclet | Campanar", "96"),
        City("Sevilla", "Sevilla", (41001, 41020), 6, "Triana | Nervión | Los Remedios", "95"),
        City("Zaragoza", "Zaragoza", (50001, 50021), 4, "Delicias | Centro | Actur", "976"),
        City("Málaga", "Málaga", (29001, 29018), 5, "El Palo | Centro | Teatinos", "95"),
        City("Bilbao", "Bizkaia", (48001, 48015), 4, "Abando | Indautxu | Deusto", "94"),
        City("Murcia", "Murcia", (30001, 30012), 3, "Centro | El Carmen | Santa Eulalia", "968"),
        City("Palma", "Illes Balears", (7001, 7015), 3, "Santa Catalina | Son Armadans | Centro", "971"),
        City("Valladolid", "Valladolid", (47001, 47016), 2, "Centro | La Rondilla | Parquesol", "983"),
        City("A Coruña", "A Coruña", (15001, 15011), 3, "Monte Alto | Os Castros | Riazor", "981"),
        City("Alicante", "Alicante", (3001, 3016), 4, "Benalúa | Centro | San Blas", "96"),
        City("Granada", "Granada", (18001, 18015), 3, "Albaicín | Realejo | Zaidín", "958"),
        City("Pamplona", "Navarra", (31001, 31016), 2, "Iturrama | San Juan | Casco Antiguo", "948"),
        City("Gijón", "Asturias", (33201, 33213), 2, "Cimavilla | La Arena | El Llano", "985"),
        City("Castellón de la Plana", "Castellón", (12001, 12006), 2, "Centro | Grao | Sensal", "964"),
    ),
    street_types=_list("Calle | Calle | Calle | Avenida | Paseo | Plaza"),
    street_names=_list(
        """
        Mayor | de Alcalá | del Mar | de la Constitución | San Vicente | Colón | de Blasco Ibáñez | del Carmen |
        de la Paz | Gran Vía | de Cervantes | de Goya | de los Naranjos | del Sol | Real | de Sorolla |
        de la Libertad | de Santa Ana | de la Reina | del Pilar | Nueva | de las Flores | de Andalucía | de Aragón |
        de la Marina | del Puerto | de Velázquez
        """
    ),
    complements=_list("1º A | 2º B | 3º izquierda | 4º derecha | Bajo | 5º C | Ático | Escalera 2, 1º D | Local 3"),
    business_kinds=_list(
        """
        Hostal | Restaurante | Cafetería | Panadería | Floristería | Hotel | Bar | Taller | Estudio | Clínica |
        Academia | Casa Rural
        """
    ),
    business_names=_list(
        """
        El Olivo | La Albufera | Las Rocas | Mediterráneo | El Faro | La Huerta | Azahar | Brisa Marina |
        El Rincón | Santa Marta | La Alameda | Los Almendros | El Puerto | La Plaza | Sol de Levante | Tres Pinos |
        La Ribera | El Mirador | Cal Pere | Can Roca
        """
    ),
    company_suffixes=_list("SL | SL | SL | SA | SLU"),
    # Where the makers are: ceramics in Manises and Onda, knives in Albacete, lamps in Lucena…
    supplier_cities=(
        City("Manises", "Valencia", (46940, 46940), 3, "Centro | Polígono La Cova", "96"),
        City("Onda", "Castellón", (12200, 12200), 2, "Centro | Polígono El Colador", "964"),
        City("Ontinyent", "Valencia", (46870, 46870), 3, "Centro | Polígono El Pla", "96"),
        City("Albacete", "Albacete", (2001, 2008), 2, "Polígono Campollano | Centro", "967"),
        City("Lucena", "Córdoba", (14900, 14900), 2, "Polígono Los Santos | Centro", "957"),
        City("Ibi", "Alicante", (3440, 3440), 2, "Polígono Els Plans | Centro", "96"),
        City("Sabadell", "Barcelona", (8201, 8208), 2, "Can Roqueta | Centre", "93"),
        City("Madrid", "Madrid", (28021, 28054), 3, "Villaverde | Vallecas | San Blas", "91"),
    ),
    supplier_kinds=_list(
        """
        Cerámicas | Textiles | Vidrios | Cuchillería | Iluminación | Maderas | Tostadero | Editorial |
        Distribuciones | Electrodomésticos | Hilaturas | Velas | Cestería | Metalistería
        """
    ),
    supplier_names=_list(
        """
        del Levante | de Navarra | del Mediterráneo | del Turia | de Castilla | de Alicante | del Norte | de Aragón |
        de Galicia | de la Vega | de La Mancha | del Ebro | de Andalucía | de La Rioja | del Cantábrico | del Sur
        """
    ),
    contact_roles=_list("Comercial | Administración | Logística | Compras | Atención al cliente"),
    payment_terms=(("Contado", 0), ("15 días", 15), ("30 días", 30), ("60 días", 60), ("90 días", 90)),
    price_list_name="Mayorista (reventa)",
    notes=_list(
        """
        Prefiere la entrega por la mañana. | Cliente de la tienda física; contacto por WhatsApp. |
        Pide factura a nombre de la empresa. | Hay conserje: se puede dejar en portería. |
        Compra para regalar; siempre pide envoltorio.
        """
    ),
)

COUNTRIES = {"BR": BRAZIL, "ES": SPAIN}
