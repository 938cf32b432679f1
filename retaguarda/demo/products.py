"""The demo catalogue: what a home-and-kitchen online store sells, in Portuguese, Spanish and English.

Each base item expands into one product per variant (colour, size, title…). Names are
"<item> – <variant>" unless the item gives its own pattern with `{v}`. Prices are the item's
base price in BRL and EUR times the variant's factor, rounded the way shops price (R$ 89,90,
24,95 €). Tax keys are mapped to each country's tax categories in `retaguarda.demo.services`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

LANGUAGES = ("pt-br", "es", "en")


def t(pt: str, es: str, en: str) -> dict[str, str]:
    return {"pt-br": pt, "es": es, "en": en}


@dataclass(frozen=True)
class Variant:
    code: str
    label: dict[str, str]
    price: Decimal = Decimal(1)
    weight: Decimal = Decimal(1)


@dataclass(frozen=True)
class Item:
    code: str
    name: dict[str, str]
    description: dict[str, str]
    price_brl: Decimal
    price_eur: Decimal
    weight: Decimal | None  # kg per unit of sale; None for services
    ncm: str = ""
    uom: str = "un"
    tax: str = "goods"  # goods | goods_st | food | book | service
    kind: str = "goods"
    cost_ratio: Decimal = Decimal("0.50")
    variants: tuple[tuple[Variant, ...], ...] = field(default_factory=tuple)


def v(code: str, pt: str, es: str, en: str, price: str = "1", weight: str = "1") -> Variant:
    return Variant(code, t(pt, es, en), Decimal(price), Decimal(weight))


WHITE = v("WHT", "Branco", "Blanco", "White")
GRAPHITE = v("GRA", "Grafite", "Grafito", "Graphite")
SAND = v("SND", "Areia", "Arena", "Sand")
TERRACOTTA = v("TER", "Terracota", "Terracota", "Terracotta")
SAGE = v("SAG", "Verde-sálvia", "Verde salvia", "Sage green")
PETROL = v("PET", "Azul-petróleo", "Azul petróleo", "Petrol blue")
COLOURS = (WHITE, GRAPHITE, SAND, TERRACOTTA, SAGE, PETROL)
BED_SIZES = (
    v("SGL", "Solteiro", "90 cm", "Single", "1", "1"),
    v("DBL", "Casal", "135 cm", "Double", "1.3", "1.35"),
    v("QEN", "Queen", "150 cm", "Queen", "1.5", "1.5"),
    v("KNG", "King", "180 cm", "King", "1.8", "1.8"),
)
PAN_SIZES = (
    v("20", "20 cm", "20 cm", "20 cm", "1", "1"),
    v("24", "24 cm", "24 cm", "24 cm", "1.2", "1.3"),
    v("28", "28 cm", "28 cm", "28 cm", "1.45", "1.6"),
)
THREE_SIZES = (
    v("S", "P", "S", "S", "1", "1"),
    v("M", "M", "M", "M", "1.4", "1.5"),
    v("L", "G", "L", "L", "1.9", "2.2"),
)


ITEMS: tuple[Item, ...] = (
    # Table and kitchen
    Item(
        "MUG350",
        t("Caneca de cerâmica 350 ml", "Taza de cerámica 350 ml", "Ceramic mug 350 ml"),
        t(
            "Caneca de cerâmica esmaltada, vai ao micro-ondas e à lava-louças.",
            "Taza de cerámica esmaltada, apta para microondas y lavavajillas.",
            "Glazed ceramic mug, microwave and dishwasher safe.",
        ),
        Decimal("39.90"),
        Decimal("8.95"),
        Decimal("0.380"),
        ncm="69120000",
        variants=(COLOURS,),
    ),
    Item(
        "PLT27",
        t("Prato raso de porcelana 27 cm", "Plato llano de porcelana 27 cm", "Porcelain dinner plate 27 cm"),
        t(
            "Porcelana de alta resistência, borda reforçada.",
            "Porcelana de alta resistencia con borde reforzado.",
            "High-strength porcelain with a reinforced rim.",
        ),
        Decimal("49.90"),
        Decimal("11.95"),
        Decimal("0.620"),
        ncm="69111010",
        variants=((WHITE, GRAPHITE, SAND),),
    ),
    Item(
        "PLT22",
        t("Prato fundo de porcelana 22 cm", "Plato hondo de porcelana 22 cm", "Porcelain soup plate 22 cm"),
        t(
            "Prato fundo para sopas e massas, da mesma linha do prato raso.",
            "Plato hondo para sopas y pasta, de la misma línea que el plato llano.",
            "Deep plate for soups and pasta, matching the dinner plate.",
        ),
        Decimal("44.90"),
        Decimal("10.95"),
        Decimal("0.540"),
        ncm="69111010",
        variants=((WHITE, GRAPHITE, SAND),),
    ),
    Item(
        "BWL600",
        t("Tigela de cerâmica 600 ml", "Cuenco de cerámica 600 ml", "Ceramic bowl 600 ml"),
        t(
            "Tigela artesanal para saladas, caldos e cereais.",
            "Cuenco artesanal para ensaladas, caldos y cereales.",
            "Hand-made bowl for salads, broths and cereal.",
        ),
        Decimal("34.90"),
        Decimal("7.95"),
        Decimal("0.450"),
        ncm="69120000",
        variants=(COLOURS,),
    ),
    Item(
        "GLS350",
        t("Copo long drink 350 ml (caixa com 6)", "Vaso largo 350 ml (caja de 6)", "Highball glass 350 ml (box of 6)"),
        t(
            "Vidro temperado resistente ao impacto. Preço por caixa com 6 copos.",
            "Vidrio templado resistente a los golpes. Precio por caja de 6 vasos.",
            "Impact-resistant tempered glass. Price per box of 6 glasses.",
        ),
        Decimal("69.90"),
        Decimal("16.95"),
        Decimal("1.900"),
        ncm="70133700",
        uom="box6",
        variants=(
            (
                v("CLR", "Transparente", "Transparente", "Clear"),
                v("SMK", "Fumê", "Ahumado", "Smoke"),
                v("AMB", "Âmbar", "Ámbar", "Amber"),
            ),
        ),
    ),
    Item(
        "WGL",
        t("Taça de cristal (caixa com 6)", "Copa de cristal (caja de 6)", "Crystal glass (box of 6)"),
        t(
            "Cristal sem chumbo, haste longa. Preço por caixa com 6 taças.",
            "Cristal sin plomo y tallo largo. Precio por caja de 6 copas.",
            "Lead-free crystal with a long stem. Price per box of 6 glasses.",
        ),
        Decimal("149.90"),
        Decimal("32.95"),
        Decimal("1.600"),
        ncm="70132800",
        uom="box6",
        variants=(
            (
                v("BDX", "Bordeaux 580 ml", "Burdeos 580 ml", "Bordeaux 580 ml"),
                v("BGN", "Borgonha 650 ml", "Borgoña 650 ml", "Burgundy 650 ml", "1.1", "1.1"),
                v("FLT", "Espumante 210 ml", "Cava 210 ml", "Flute 210 ml", "0.9", "0.8"),
            ),
        ),
    ),
    Item(
        "CUT24",
        t(
            "Faqueiro de aço inox 24 peças",
            "Cubertería de acero inoxidable 24 piezas",
            "Stainless steel cutlery set, 24 pieces",
        ),
        t(
            "Seis garfos, facas, colheres e colheres de chá em aço inox 18/10.",
            "Seis tenedores, cuchillos, cucharas y cucharillas en acero 18/10.",
            "Six forks, knives, spoons and teaspoons in 18/10 stainless steel.",
        ),
        Decimal("229.90"),
        Decimal("49.95"),
        Decimal("1.850"),
        ncm="82152000",
        cost_ratio=Decimal("0.45"),
        variants=((v("POL", "Polido", "Pulido", "Polished"), v("MAT", "Fosco", "Mate", "Matt", "1.1")),),
    ),
    Item(
        "KNF",
        t("{v}", "{v}", "{v}"),
        t(
            "Lâmina de aço alemão forjado, cabo ergonômico.",
            "Hoja de acero alemán forjado y mango ergonómico.",
            "Forged German steel blade, ergonomic handle.",
        ),
        Decimal("159.90"),
        Decimal("39.95"),
        Decimal("0.260"),
        ncm="82119290",
        variants=(
            (
                v("CHF", "Faca do chef 20 cm", "Cuchillo de chef 20 cm", "Chef's knife 20 cm"),
                v("SNT", "Faca santoku 18 cm", "Cuchillo santoku 18 cm", "Santoku knife 18 cm", "1.05"),
                v("BRD", "Faca de pão 20 cm", "Cuchillo de pan 20 cm", "Bread knife 20 cm", "0.85"),
                v("PAR", "Faca de legumes 9 cm", "Cuchillo mondador 9 cm", "Paring knife 9 cm", "0.5", "0.4"),
            ),
        ),
    ),
    Item(
        "FRY",
        t("Frigideira antiaderente", "Sartén antiadherente", "Non-stick frying pan"),
        t(
            "Alumínio forjado com revestimento sem PFOA; serve em fogão de indução.",
            "Aluminio forjado con antiadherente sin PFOA; apta para inducción.",
            "Forged aluminium with PFOA-free coating; induction ready.",
        ),
        Decimal("129.90"),
        Decimal("27.95"),
        Decimal("0.900"),
        ncm="76151000",
        variants=(PAN_SIZES,),
    ),
    Item(
        "POT",
        t("Panela de aço inox com tampa", "Cacerola de acero inoxidable con tapa", "Stainless steel pot with lid"),
        t(
            "Fundo triplo para distribuir o calor; tampa de vidro temperado.",
            "Fondo triple que reparte el calor; tapa de vidrio templado.",
            "Triple-layer base spreads the heat; tempered glass lid.",
        ),
        Decimal("179.90"),
        Decimal("39.95"),
        Decimal("1.700"),
        ncm="73239300",
        variants=(PAN_SIZES,),
    ),
    Item(
        "CST24",
        t("Caçarola de ferro fundido 24 cm", "Cocotte de hierro fundido 24 cm", "Cast-iron casserole 24 cm"),
        t(
            "Ferro fundido esmaltado para cozidos lentos, forno e fogão.",
            "Hierro fundido esmaltado para guisos lentos, horno y fuego.",
            "Enamelled cast iron for slow cooking, oven and hob.",
        ),
        Decimal("499.90"),
        Decimal("119.95"),
        Decimal("4.800"),
        ncm="73239100",
        cost_ratio=Decimal("0.55"),
        variants=((GRAPHITE, TERRACOTTA, SAGE, PETROL),),
    ),
    Item(
        "BRD",
        t("Tábua de corte de madeira", "Tabla de cortar de madera", "Wooden chopping board"),
        t(
            "Madeira de reflorestamento tratada com óleo mineral.",
            "Madera de bosques gestionados, tratada con aceite mineral.",
            "Sustainably sourced wood finished with mineral oil.",
        ),
        Decimal("59.90"),
        Decimal("14.95"),
        Decimal("0.900"),
        ncm="44199000",
        variants=(THREE_SIZES,),
    ),
    Item(
        "BMB5",
        t(
            "Kit de utensílios de bambu, 5 peças",
            "Juego de utensilios de bambú, 5 piezas",
            "Bamboo utensil set, 5 pieces",
        ),
        t(
            "Colher, espátula, pegador, concha e escumadeira.",
            "Cuchara, espátula, pinza, cazo y espumadera.",
            "Spoon, spatula, tongs, ladle and skimmer.",
        ),
        Decimal("49.90"),
        Decimal("12.95"),
        Decimal("0.350"),
        ncm="44191900",
    ),
    Item(
        "FRP",
        t("Cafeteira francesa", "Cafetera de émbolo", "French press"),
        t(
            "Jarra de vidro borossilicato e filtro de aço inox.",
            "Jarra de vidrio borosilicato y filtro de acero inoxidable.",
            "Borosilicate glass jug and stainless steel filter.",
        ),
        Decimal("89.90"),
        Decimal("19.95"),
        Decimal("0.600"),
        ncm="70134900",
        variants=((v("350", "350 ml", "350 ml", "350 ml"), v("1L", "1 litro", "1 litro", "1 litre", "1.35", "1.5")),),
    ),
    Item(
        "KTL17",
        t("Chaleira elétrica 1,7 l", "Hervidor eléctrico 1,7 l", "Electric kettle 1.7 l"),
        t(
            "Desliga sozinha ao ferver; base giratória 360°.",
            "Se apaga sola al hervir; base giratoria de 360°.",
            "Switches off by itself when it boils; 360° swivel base.",
        ),
        Decimal("219.90"),
        Decimal("44.95"),
        Decimal("1.300"),
        ncm="85167990",
        tax="goods_st",
        variants=((WHITE, GRAPHITE, SAGE),),
    ),
    Item(
        "TST2",
        t("Torradeira 2 fatias", "Tostadora de 2 ranuras", "Two-slice toaster"),
        t(
            "Sete níveis de tostagem, descongelar e reaquecer.",
            "Siete niveles de tostado, descongelar y recalentar.",
            "Seven browning levels, defrost and reheat.",
        ),
        Decimal("189.90"),
        Decimal("39.95"),
        Decimal("1.500"),
        ncm="85167200",
        tax="goods_st",
        variants=((WHITE, GRAPHITE),),
    ),
    Item(
        "BLN15",
        t("Liquidificador 1,5 l", "Batidora de vaso 1,5 l", "Blender 1.5 l"),
        t(
            "Motor de 900 W, copo de vidro e lâminas de aço inox.",
            "Motor de 900 W, vaso de vidrio y cuchillas de acero inoxidable.",
            "900 W motor, glass jar and stainless steel blades.",
        ),
        Decimal("279.90"),
        Decimal("59.95"),
        Decimal("3.200"),
        ncm="85094010",
        tax="goods_st",
        variants=((WHITE, GRAPHITE),),
    ),
    Item(
        "COF500",
        t("Café em grãos torrado 500 g", "Café en grano tostado 500 g", "Roasted coffee beans 500 g"),
        t(
            "Café especial de origem única, torra média.",
            "Café de especialidad de origen único, tueste medio.",
            "Single-origin specialty coffee, medium roast.",
        ),
        Decimal("64.90"),
        Decimal("13.95"),
        Decimal("0.520"),
        ncm="09012100",
        tax="food",
        cost_ratio=Decimal("0.60"),
        variants=(
            (
                v("CER", "Cerrado Mineiro", "Cerrado Mineiro (Brasil)", "Cerrado Mineiro (Brazil)"),
                v("HUI", "Huila (Colômbia)", "Huila (Colombia)", "Huila (Colombia)", "1.1"),
                v("SID", "Sidamo (Etiópia)", "Sidamo (Etiopía)", "Sidamo (Ethiopia)", "1.2"),
            ),
        ),
    ),
    Item(
        "COFKG",
        t("Café em grãos a granel", "Café en grano a granel", "Coffee beans, loose"),
        t(
            "Blend da casa, torra média; vendido por quilo.",
            "Mezcla de la casa, tueste medio; se vende por kilo.",
            "House blend, medium roast; sold by the kilo.",
        ),
        Decimal("109.90"),
        Decimal("23.95"),
        Decimal("1.000"),
        ncm="09012100",
        uom="kg",
        tax="food",
        cost_ratio=Decimal("0.60"),
    ),
    Item(
        "TEA100",
        t("Chá em folhas 100 g", "Té a granel 100 g", "Loose-leaf tea 100 g"),
        t(
            "Folhas inteiras em lata reutilizável.",
            "Hojas enteras en lata reutilizable.",
            "Whole leaves in a reusable tin.",
        ),
        Decimal("39.90"),
        Decimal("7.95"),
        Decimal("0.180"),
        ncm="09021000",
        tax="food",
        cost_ratio=Decimal("0.55"),
        variants=(
            (
                v("GRN", "Chá verde", "Té verde", "Green tea"),
                v("BLK", "Chá preto", "Té negro", "Black tea"),
                v("CHM", "Camomila", "Manzanilla", "Camomile", "0.9"),
            ),
        ),
    ),
    Item(
        "JAR3",
        t(
            "Potes de vidro herméticos, jogo de 3",
            "Tarros de vidrio herméticos, juego de 3",
            "Airtight glass jars, set of 3",
        ),
        t(
            "500 ml, 1 l e 1,5 l, com tampa de bambu e vedação de silicone.",
            "500 ml, 1 l y 1,5 l, con tapa de bambú y junta de silicona.",
            "500 ml, 1 l and 1.5 l, bamboo lids with silicone seals.",
        ),
        Decimal("99.90"),
        Decimal("21.95"),
        Decimal("2.100"),
        ncm="70134900",
    ),
    Item(
        "FLK1L",
        t("Garrafa térmica 1 l", "Termo 1 l", "Vacuum flask 1 l"),
        t(
            "Mantém quente por 12 horas e frio por 24 horas.",
            "Mantiene el calor 12 horas y el frío 24 horas.",
            "Keeps drinks hot for 12 hours and cold for 24.",
        ),
        Decimal("129.90"),
        Decimal("26.95"),
        Decimal("0.650"),
        ncm="96170010",
        variants=((WHITE, GRAPHITE, SAGE, PETROL),),
    ),
    Item(
        "APR",
        t("Avental de algodão", "Delantal de algodón", "Cotton apron"),
        t(
            "Lona de algodão com bolso frontal e alças ajustáveis.",
            "Lona de algodón con bolsillo delantero y tirantes ajustables.",
            "Cotton canvas with a front pocket and adjustable straps.",
        ),
        Decimal("69.90"),
        Decimal("15.95"),
        Decimal("0.250"),
        ncm="62114200",
        variants=((GRAPHITE, SAND, TERRACOTTA, SAGE),),
    ),
    Item(
        "DSP",
        t("Dispenser de sabonete de cerâmica", "Dosificador de jabón de cerámica", "Ceramic soap dispenser"),
        t(
            "300 ml, válvula de aço inox.",
            "300 ml, válvula de acero inoxidable.",
            "300 ml, stainless steel pump.",
        ),
        Decimal("59.90"),
        Decimal("13.95"),
        Decimal("0.420"),
        ncm="69120000",
        variants=((WHITE, GRAPHITE, SAND, TERRACOTTA),),
    ),
    Item(
        "RCK",
        t("Escorredor de louça de aço inox", "Escurreplatos de acero inoxidable", "Stainless steel dish rack"),
        t(
            "Dois níveis, com porta-talheres e bandeja removível.",
            "Dos niveles, con cubertero y bandeja extraíble.",
            "Two tiers, cutlery holder and removable drip tray.",
        ),
        Decimal("149.90"),
        Decimal("34.95"),
        Decimal("2.400"),
        ncm="73239300",
    ),
    Item(
        "PLM4",
        t(
            "Jogo americano de algodão, 4 peças",
            "Juego de manteles individuales de algodón, 4 piezas",
            "Cotton placemats, set of 4",
        ),
        t(
            "Sarja de algodão lavável, 35 × 50 cm.",
            "Sarga de algodón lavable, 35 × 50 cm.",
            "Washable cotton twill, 35 × 50 cm.",
        ),
        Decimal("79.90"),
        Decimal("16.95"),
        Decimal("0.320"),
        ncm="63025100",
        variants=((GRAPHITE, SAND, TERRACOTTA, SAGE),),
    ),
    Item(
        "NAP4",
        t("Guardanapos de linho, 4 unidades", "Servilletas de lino, 4 unidades", "Linen napkins, set of 4"),
        t(
            "Linho lavado, 45 × 45 cm, bainha dupla.",
            "Lino lavado, 45 × 45 cm, doble dobladillo.",
            "Washed linen, 45 × 45 cm, double hem.",
        ),
        Decimal("89.90"),
        Decimal("19.95"),
        Decimal("0.220"),
        ncm="63025900",
        variants=((WHITE, SAND, TERRACOTTA, SAGE),),
    ),
    Item(
        "TTW3",
        t("Panos de prato, 3 unidades", "Paños de cocina, 3 unidades", "Tea towels, set of 3"),
        t(
            "Algodão absorvente que não solta fiapos.",
            "Algodón absorbente que no suelta pelusa.",
            "Absorbent, lint-free cotton.",
        ),
        Decimal("39.90"),
        Decimal("8.95"),
        Decimal("0.210"),
        ncm="63029100",
        variants=((WHITE, GRAPHITE, SAGE),),
    ),
    Item(
        "BKD",
        t("Travessa de cerâmica para forno 30 cm", "Fuente de cerámica para horno 30 cm", "Ceramic baking dish 30 cm"),
        t(
            "Vai do forno à mesa; suporta até 250 °C.",
            "Del horno a la mesa; resiste hasta 250 °C.",
            "Oven to table; withstands up to 250 °C.",
        ),
        Decimal("99.90"),
        Decimal("21.95"),
        Decimal("1.700"),
        ncm="69120000",
        variants=((WHITE, TERRACOTTA, SAGE),),
    ),
    # Bed and bath
    Item(
        "SHT200",
        t("Jogo de lençol 200 fios", "Juego de sábanas 200 hilos", "Sheet set, 200 thread count"),
        t(
            "Percal 100% algodão: lençol com elástico, lençol de cima e fronhas.",
            "Percal 100% algodón: bajera ajustable, encimera y fundas de almohada.",
            "100% cotton percale: fitted sheet, flat sheet and pillowcases.",
        ),
        Decimal("199.90"),
        Decimal("39.95"),
        Decimal("1.200"),
        ncm="63023100",
        variants=(BED_SIZES, (WHITE, GRAPHITE, SAND, SAGE)),
    ),
    Item(
        "DUV",
        t("Edredom de microfibra", "Edredón nórdico de microfibra", "Microfibre duvet"),
        t(
            "Enchimento antialérgico, costura em gomos que não deixa a fibra embolar.",
            "Relleno antialérgico con pespunte en cuadros que evita que se apelmace.",
            "Hypoallergenic filling, box stitching keeps it from clumping.",
        ),
        Decimal("259.90"),
        Decimal("54.95"),
        Decimal("2.000"),
        ncm="94044000",
        variants=(BED_SIZES,),
    ),
    Item(
        "PLW",
        t("Travesseiro 50 × 70 cm", "Almohada 70 cm", "Pillow 50 × 70 cm"),
        t(
            "Fibra de poliéster siliconizada, capa de algodão.",
            "Fibra de poliéster siliconada, funda de algodón.",
            "Siliconised polyester fibre, cotton cover.",
        ),
        Decimal("79.90"),
        Decimal("17.95"),
        Decimal("0.900"),
        ncm="94049000",
        variants=((v("FRM", "Firme", "Firme", "Firm"), v("SFT", "Macio", "Suave", "Soft")),),
    ),
    Item(
        "TWB",
        t("Toalha de banho", "Toalla de baño", "Bath towel"),
        t(
            "Felpa 100% algodão, 500 g/m², 70 × 140 cm.",
            "Rizo 100% algodón, 500 g/m², 70 × 140 cm.",
            "100% cotton terry, 500 g/m², 70 × 140 cm.",
        ),
        Decimal("69.90"),
        Decimal("14.95"),
        Decimal("0.500"),
        ncm="63026000",
        variants=(COLOURS,),
    ),
    Item(
        "TWH",
        t("Toalha de rosto", "Toalla de lavabo", "Hand towel"),
        t(
            "Felpa 100% algodão, 500 g/m², 50 × 80 cm.",
            "Rizo 100% algodón, 500 g/m², 50 × 80 cm.",
            "100% cotton terry, 500 g/m², 50 × 80 cm.",
        ),
        Decimal("39.90"),
        Decimal("8.95"),
        Decimal("0.200"),
        ncm="63026000",
        variants=(COLOURS,),
    ),
    Item(
        "BMT",
        t("Tapete de banheiro", "Alfombra de baño", "Bath mat"),
        t(
            "Algodão com base antiderrapante, 50 × 80 cm.",
            "Algodón con base antideslizante, 50 × 80 cm.",
            "Cotton with a non-slip backing, 50 × 80 cm.",
        ),
        Decimal("59.90"),
        Decimal("12.95"),
        Decimal("0.600"),
        ncm="63026000",
        variants=((WHITE, GRAPHITE, SAND, SAGE),),
    ),
    Item(
        "ROBE",
        t("Roupão de banho", "Albornoz", "Bathrobe"),
        t(
            "Felpa 100% algodão com capuz e bolsos.",
            "Rizo 100% algodón con capucha y bolsillos.",
            "100% cotton terry with hood and pockets.",
        ),
        Decimal("189.90"),
        Decimal("39.95"),
        Decimal("1.100"),
        ncm="62089100",
        variants=(THREE_SIZES,),
    ),
    # Living room and decoration
    Item(
        "DIF250",
        t("Difusor de aromas com varetas 250 ml", "Difusor de varillas 250 ml", "Reed diffuser 250 ml"),
        t(
            "Frasco de vidro com varetas de rattan; dura cerca de três meses.",
            "Frasco de vidrio con varillas de ratán; dura unos tres meses.",
            "Glass bottle with rattan reeds; lasts about three months.",
        ),
        Decimal("79.90"),
        Decimal("17.95"),
        Decimal("0.480"),
        ncm="33074900",
        variants=(
            (
                v("LAV", "Lavanda", "Lavanda", "Lavender"),
                v("RSM", "Alecrim", "Romero", "Rosemary"),
                v("VAN", "Baunilha", "Vainilla", "Vanilla"),
                v("LMG", "Capim-limão", "Hierba limón", "Lemongrass"),
                v("FIG", "Figo", "Higo", "Fig"),
            ),
        ),
    ),
    Item(
        "CSH45",
        t("Capa de almofada 45 × 45 cm", "Funda de cojín 45 × 45 cm", "Cushion cover 45 × 45 cm"),
        t(
            "Linho e algodão, fecho invisível.",
            "Lino y algodón, cremallera oculta.",
            "Linen and cotton, hidden zip.",
        ),
        Decimal("54.90"),
        Decimal("12.95"),
        Decimal("0.180"),
        ncm="63049200",
        variants=(COLOURS,),
    ),
    Item(
        "THR",
        t("Manta de sofá 130 × 170 cm", "Manta de sofá 130 × 170 cm", "Sofa throw 130 × 170 cm"),
        t(
            "Tricô de algodão com franjas.",
            "Punto de algodón con flecos.",
            "Cotton knit with fringes.",
        ),
        Decimal("149.90"),
        Decimal("32.95"),
        Decimal("0.900"),
        ncm="63013000",
        variants=((GRAPHITE, SAND, TERRACOTTA, SAGE, PETROL),),
    ),
    Item(
        "CRT",
        t("Cortina de linho 1,40 × 2,60 m", "Cortina de lino 140 × 260 cm", "Linen curtain 140 × 260 cm"),
        t(
            "Linho lavado com ilhoses; um painel.",
            "Lino lavado con ollaos; un panel.",
            "Washed linen with eyelets; one panel.",
        ),
        Decimal("189.90"),
        Decimal("42.95"),
        Decimal("1.100"),
        ncm="63039100",
        variants=((WHITE, SAND, GRAPHITE),),
    ),
    Item(
        "FAB",
        t("Tecido de linho (metro)", "Tela de lino (metro)", "Linen fabric (per metre)"),
        t(
            "Largura de 1,50 m; vendido por metro.",
            "Ancho de 150 cm; se vende por metros.",
            "1.50 m wide; sold by the metre.",
        ),
        Decimal("89.90"),
        Decimal("19.95"),
        Decimal("0.280"),
        ncm="53092900",
        uom="m",
        variants=((WHITE, SAND, GRAPHITE),),
    ),
    Item(
        "RUG",
        t("Tapete de algodão", "Alfombra de algodón", "Cotton rug"),
        t(
            "Tecido à mão, lavável na máquina.",
            "Tejida a mano, lavable a máquina.",
            "Hand-woven, machine washable.",
        ),
        Decimal("149.90"),
        Decimal("34.95"),
        Decimal("1.200"),
        ncm="57050000",
        variants=(
            (
                v("S", "60 × 90 cm", "60 × 90 cm", "60 × 90 cm"),
                v("M", "120 × 180 cm", "120 × 180 cm", "120 × 180 cm", "2.6", "4"),
                v("L", "160 × 230 cm", "160 × 230 cm", "160 × 230 cm", "4", "6.8"),
            ),
        ),
    ),
    Item(
        "LMP",
        t("Luminária de mesa", "Lámpara de mesa", "Table lamp"),
        t(
            "Base de cerâmica e cúpula de linho; soquete E27.",
            "Base de cerámica y pantalla de lino; casquillo E27.",
            "Ceramic base and linen shade; E27 socket.",
        ),
        Decimal("249.90"),
        Decimal("54.95"),
        Decimal("2.300"),
        ncm="94052100",
        tax="goods_st",
        variants=((WHITE, TERRACOTTA, SAGE),),
    ),
    Item(
        "PND",
        t("Pendente de fibra natural", "Lámpara colgante de fibra natural", "Natural fibre pendant light"),
        t(
            "Cúpula trançada à mão, 40 cm de diâmetro.",
            "Pantalla trenzada a mano de 40 cm de diámetro.",
            "Hand-woven shade, 40 cm across.",
        ),
        Decimal("329.90"),
        Decimal("69.95"),
        Decimal("1.400"),
        ncm="94051100",
        tax="goods_st",
        variants=((v("NAT", "Natural", "Natural", "Natural"), v("BLK", "Preto", "Negro", "Black"), WHITE),),
    ),
    Item(
        "LED",
        t("Lâmpada LED E27", "Bombilla LED E27", "LED bulb E27"),
        t(
            "Equivale a 60 W, 15 000 horas de vida.",
            "Equivale a 60 W, 15 000 horas de vida útil.",
            "Equivalent to 60 W, 15,000-hour life.",
        ),
        Decimal("24.90"),
        Decimal("5.95"),
        Decimal("0.060"),
        ncm="85395200",
        tax="goods_st",
        variants=(
            (
                v("WRM", "9 W luz quente", "9 W luz cálida", "9 W warm white"),
                v("NTR", "9 W luz neutra", "9 W luz neutra", "9 W neutral white"),
                v("FIL", "6 W filamento", "6 W filamento", "6 W filament", "1.6"),
            ),
        ),
    ),
    Item(
        "CND",
        t("Vela aromática 200 g", "Vela aromática 200 g", "Scented candle 200 g"),
        t(
            "Cera vegetal de soja em pote de vidro; 40 horas de queima.",
            "Cera vegetal de soja en vaso de vidrio; 40 horas de combustión.",
            "Soy wax in a glass jar; burns for 40 hours.",
        ),
        Decimal("59.90"),
        Decimal("13.95"),
        Decimal("0.350"),
        ncm="34060000",
        variants=(
            (
                v("LAV", "Lavanda", "Lavanda", "Lavender"),
                v("RSM", "Alecrim", "Romero", "Rosemary"),
                v("VAN", "Baunilha", "Vainilla", "Vanilla"),
                v("LMG", "Capim-limão", "Hierba limón", "Lemongrass"),
                v("FIG", "Figo", "Higo", "Fig"),
            ),
        ),
    ),
    Item(
        "VAS",
        t("Vaso de cerâmica 25 cm", "Jarrón de cerámica 25 cm", "Ceramic vase 25 cm"),
        t(
            "Cerâmica torneada à mão, acabamento fosco.",
            "Cerámica torneada a mano, acabado mate.",
            "Wheel-thrown ceramic, matt finish.",
        ),
        Decimal("119.90"),
        Decimal("24.95"),
        Decimal("1.100"),
        ncm="69139000",
        variants=((WHITE, SAND, TERRACOTTA, SAGE),),
    ),
    Item(
        "FRM",
        t("Porta-retratos de madeira", "Marco de fotos de madera", "Wooden picture frame"),
        t(
            "Madeira maciça e vidro; para mesa ou parede.",
            "Madera maciza y cristal; para mesa o pared.",
            "Solid wood and glass; stands or hangs.",
        ),
        Decimal("49.90"),
        Decimal("11.95"),
        Decimal("0.400"),
        ncm="44149000",
        variants=(
            (
                v("1015", "10 × 15 cm", "10 × 15 cm", "10 × 15 cm"),
                v("1318", "13 × 18 cm", "13 × 18 cm", "13 × 18 cm", "1.3", "1.3"),
                v("2025", "20 × 25 cm", "20 × 25 cm", "20 × 25 cm", "1.8", "2"),
            ),
        ),
    ),
    Item(
        "CLK",
        t("Relógio de parede 30 cm", "Reloj de pared 30 cm", "Wall clock 30 cm"),
        t(
            "Mecanismo silencioso, moldura de madeira.",
            "Mecanismo silencioso y marco de madera.",
            "Silent movement, wooden frame.",
        ),
        Decimal("139.90"),
        Decimal("29.95"),
        Decimal("0.800"),
        ncm="91052100",
        variants=((WHITE, GRAPHITE),),
    ),
    Item(
        "MIR",
        t("Espelho redondo com moldura", "Espejo redondo con marco", "Round framed mirror"),
        t(
            "Moldura de metal com pintura eletrostática.",
            "Marco de metal con pintura en polvo.",
            "Powder-coated metal frame.",
        ),
        Decimal("269.90"),
        Decimal("59.95"),
        Decimal("4.500"),
        ncm="70099200",
        variants=((v("50", "50 cm", "50 cm", "50 cm"), v("70", "70 cm", "70 cm", "70 cm", "1.5", "1.9")),),
    ),
    Item(
        "BSK",
        t("Cesto de fibra natural", "Cesta de fibra natural", "Natural fibre basket"),
        t(
            "Fibra de junco trançada com alças.",
            "Fibra de junco trenzada con asas.",
            "Woven seagrass with handles.",
        ),
        Decimal("79.90"),
        Decimal("17.95"),
        Decimal("0.700"),
        ncm="46021900",
        variants=(THREE_SIZES,),
    ),
    # Garden and balcony
    Item(
        "PLP",
        t("Vaso de terracota para plantas", "Maceta de terracota", "Terracotta plant pot"),
        t(
            "Barro cozido com furo de drenagem e pratinho.",
            "Barro cocido con orificio de drenaje y plato.",
            "Fired clay with a drainage hole and saucer.",
        ),
        Decimal("44.90"),
        Decimal("9.95"),
        Decimal("1.500"),
        ncm="69149000",
        variants=(THREE_SIZES,),
    ),
    Item(
        "HOS20",
        t("Mangueira de jardim 20 m", "Manguera de jardín 20 m", "Garden hose 20 m"),
        t(
            "Trançada, antitorção, com esguicho de 7 jatos.",
            "Trenzada, antitorsión, con pistola de 7 chorros.",
            "Braided, kink-free, with a 7-pattern spray gun.",
        ),
        Decimal("139.90"),
        Decimal("29.95"),
        Decimal("2.600"),
        ncm="39173900",
    ),
    Item(
        "PRN",
        t("Tesoura de poda 20 cm", "Tijera de podar 20 cm", "Pruning shears 20 cm"),
        t(
            "Lâminas de aço carbono e trava de segurança.",
            "Hojas de acero al carbono y cierre de seguridad.",
            "Carbon steel blades and safety lock.",
        ),
        Decimal("69.90"),
        Decimal("15.95"),
        Decimal("0.250"),
        ncm="82015000",
    ),
    Item(
        "CHR",
        t("Cadeira de alumínio para área externa", "Silla de aluminio para exterior", "Aluminium outdoor chair"),
        t(
            "Empilhável, resistente à chuva e ao sol.",
            "Apilable, resiste la lluvia y el sol.",
            "Stackable, weather resistant.",
        ),
        Decimal("389.90"),
        Decimal("79.95"),
        Decimal("3.800"),
        ncm="94017900",
        cost_ratio=Decimal("0.55"),
        variants=((WHITE, GRAPHITE, SAGE),),
    ),
    Item(
        "ROP",
        t("Corda de sisal 10 mm (metro)", "Cuerda de sisal 10 mm (metro)", "Sisal rope 10 mm (per metre)"),
        t(
            "Fibra natural para jardim e decoração; vendida por metro.",
            "Fibra natural para jardín y decoración; se vende por metros.",
            "Natural fibre for the garden and decoration; sold by the metre.",
        ),
        Decimal("6.90"),
        Decimal("1.45"),
        Decimal("0.070"),
        ncm="56072100",
        uom="m",
    ),
    Item(
        "WCN5",
        t("Regador 5 l", "Regadera 5 l", "Watering can 5 l"),
        t(
            "Plástico reciclado com crivo removível.",
            "Plástico reciclado con alcachofa extraíble.",
            "Recycled plastic with a removable rose.",
        ),
        Decimal("49.90"),
        Decimal("10.95"),
        Decimal("0.600"),
        ncm="39249000",
        variants=((GRAPHITE, SAGE),),
    ),
    # Books
    Item(
        "BOOK",
        t("Livro de receitas: {v}", "Libro de recetas: {v}", "Cookbook: {v}"),
        t(
            "Capa dura, 224 páginas, fotos coloridas.",
            "Tapa dura, 224 páginas, fotos en color.",
            "Hardcover, 224 pages, colour photographs.",
        ),
        Decimal("99.90"),
        Decimal("24.90"),
        Decimal("0.950"),
        ncm="49019900",
        tax="book",
        cost_ratio=Decimal("0.60"),
        variants=(
            (
                v("SRD", "Pão de fermentação natural", "Pan de masa madre", "Sourdough bread"),
                v("GRD", "Horta na cozinha", "La huerta en la cocina", "The kitchen garden"),
                v("SWT", "Doces de família", "Dulces de familia", "Family sweets", "0.9"),
                v("ONE", "Uma panela só", "Una sola olla", "One pot", "0.9"),
            ),
        ),
    ),
    # Services
    Item(
        "SRV-GIFT",
        t("Embalagem para presente", "Envoltorio para regalo", "Gift wrapping"),
        t(
            "Papel kraft, fita de algodão e cartão escrito à mão.",
            "Papel kraft, cinta de algodón y tarjeta escrita a mano.",
            "Kraft paper, cotton ribbon and a hand-written card.",
        ),
        Decimal("14.90"),
        Decimal("3.95"),
        None,
        tax="service",
        kind="service",
        cost_ratio=Decimal("0.30"),
    ),
    Item(
        "SRV-ASSY",
        t("Montagem de móveis (hora)", "Montaje de muebles (hora)", "Furniture assembly (per hour)"),
        t(
            "Montador no endereço de entrega; cobrado por hora.",
            "Montador en la dirección de entrega; se cobra por horas.",
            "A fitter at the delivery address; charged by the hour.",
        ),
        Decimal("89.90"),
        Decimal("34.95"),
        None,
        uom="h",
        tax="service",
        kind="service",
        cost_ratio=Decimal("0.60"),
    ),
    Item(
        "SRV-LIGHT",
        t("Instalação de luminária", "Instalación de lámpara", "Light fitting installation"),
        t(
            "Eletricista instala um pendente ou luminária de parede.",
            "Un electricista instala una lámpara de techo o aplique.",
            "An electrician fits one pendant or wall light.",
        ),
        Decimal("119.90"),
        Decimal("44.95"),
        None,
        tax="service",
        kind="service",
        cost_ratio=Decimal("0.60"),
    ),
)


@dataclass(frozen=True)
class ProductSpec:
    """One product to create, before prices are rounded for a country."""

    sku: str
    item: Item
    variants: tuple[Variant, ...]

    def name(self, language: str) -> str:
        labels = [variant.label[language] for variant in self.variants]
        pattern = self.item.name[language]
        if "{v}" in pattern:
            return pattern.replace("{v}", " – ".join(labels))
        return " – ".join([pattern, *labels])

    @property
    def price_factor(self) -> Decimal:
        factor = Decimal(1)
        for variant in self.variants:
            factor *= variant.price
        return factor

    @property
    def weight(self) -> Decimal | None:
        if self.item.weight is None:
            return None
        weight = self.item.weight
        for variant in self.variants:
            weight *= variant.weight
        return weight.quantize(Decimal("0.001"))


def product_specs() -> list[ProductSpec]:
    """Every product of the demo catalogue, in a fixed order."""
    specs = []
    for item in ITEMS:
        combos: list[tuple[Variant, ...]] = [()]
        for dimension in item.variants:
            combos = [(*combo, variant) for combo in combos for variant in dimension]
        for combo in combos:
            sku = "-".join([item.code, *(variant.code for variant in combo)])
            specs.append(ProductSpec(sku=sku, item=item, variants=combo))
    return specs
