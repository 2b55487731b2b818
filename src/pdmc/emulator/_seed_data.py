"""The word lists seeding draws from: names, places and phone formats in twelve locales.

Each name is written as ``native=ascii``: the name as its owner writes it, and the
ASCII spelling people use in email addresses (``Jürgen=juergen``, ``Анна=anna``).
Gendered family names are ``masculine/feminine`` (``Иванов/Иванова=ivanov/ivanova``).
Entries are separated by ``;`` because some names hold spaces (``von der Heide``).
Patterns use ``#`` for a digit and ``?`` for an upper-case letter.
"""

# ruff: noqa: RUF001 - names in Greek, Cyrillic and Turkish letters are the point of this file

from __future__ import annotations

from typing import Final

from attrs import frozen

__all__ = [
    "COMPANY_KINDS",
    "COMPANY_WORDS",
    "FAKE_EMAILS",
    "JOB_TITLES",
    "LOCALES",
    "Locale",
    "Name",
    "Place",
]


@frozen
class Name:
    """A name as written, and its ASCII spelling for email addresses."""

    native: str
    ascii: str


@frozen
class Place:
    """A city with its region (state, county, prefecture) and postal-code pattern."""

    city: str
    region: str
    postal: str


@frozen(kw_only=True)
class Locale:
    """Everything seeding needs to make a person of one language and country."""

    code: str
    #: ISO 3166 code and English name of the country
    country: str
    country_name: str
    female: tuple[Name, ...]
    male: tuple[Name, ...]
    #: (masculine, feminine) pairs; the same name twice where it does not change
    family: tuple[tuple[Name, Name], ...]
    #: family name first (Japanese, Chinese), joined by ``separator``
    family_first: bool = False
    separator: str = " "
    places: tuple[Place, ...]
    streets: tuple[str, ...]
    #: street number before the street name (English, French) or after it
    number_first: bool = False
    phones: tuple[str, ...]
    mail_domains: tuple[str, ...]
    company_tld: str
    currency: str


def _names(table: str) -> tuple[Name, ...]:
    return tuple(Name(*_split(entry)) for entry in table.split(";"))


def _families(table: str) -> tuple[tuple[Name, Name], ...]:
    pairs = []
    for entry in table.split(";"):
        native, ascii_ = _split(entry)
        male, _, female = native.partition("/")
        male_ascii, _, female_ascii = ascii_.partition("/")
        pairs.append((Name(male, male_ascii), Name(female or male, female_ascii or male_ascii)))
    return tuple(pairs)


def _split(entry: str) -> tuple[str, str]:
    native, _, ascii_ = entry.strip().partition("=")
    return native, ascii_


def _places(*rows: tuple[str, str, str]) -> tuple[Place, ...]:
    return tuple(Place(*row) for row in rows)


LOCALES: Final[tuple[Locale, ...]] = (
    Locale(
        code="en-US",
        country="US",
        country_name="United States",
        female=_names(
            "Mary=mary; Olivia=olivia; Emma=emma; Ava=ava; Madison=madison; "
            "Sophia=sophia; Abigail=abigail; Chloe=chloe; Mary-Kate=marykate"
        ),
        male=_names(
            "James=james; Michael=michael; William=william; Ethan=ethan; Noah=noah; "
            "Tyler=tyler; Jackson=jackson; Daniel=daniel; Billy-Joe=billyjoe"
        ),
        family=_families(
            "Smith=smith; Johnson=johnson; Williams=williams; Brown=brown; "
            "Davis=davis; Miller=miller; Wilson=wilson; Taylor-Reed=taylorreed; "
            "Anderson=anderson; Thompson=thompson; D'Angelo=dangelo; "
            "Martinez=martinez"
        ),
        places=_places(
            ("New York", "NY", "100##"),
            ("Austin", "TX", "787##"),
            ("Seattle", "WA", "981##"),
            ("Denver", "CO", "802##"),
            ("Boston", "MA", "021##"),
            ("Chicago", "IL", "606##"),
        ),
        streets=(
            "Maple Avenue",
            "Oak Street",
            "Pine Road",
            "Sunset Boulevard",
            "Elm Street",
            "Lakeshore Drive",
        ),
        number_first=True,
        phones=("(###) ###-####", "+1 ###-###-####", "###.###.####"),
        mail_domains=("gmail.com", "yahoo.com", "outlook.com", "aol.com", "icloud.com"),
        company_tld="com",
        currency="USD",
    ),
    Locale(
        code="en-IE",
        country="IE",
        country_name="Ireland",
        female=_names(
            "Siobhán=siobhan; Aoife=aoife; Niamh=niamh; Róisín=roisin; Orla=orla; "
            "Saoirse=saoirse; Caoimhe=caoimhe; Máire=maire"
        ),
        male=_names(
            "Seán=sean; Ciarán=ciaran; Pádraig=padraig; Eoin=eoin; Darragh=darragh; "
            "Oisín=oisin; Cathal=cathal; Tadhg=tadhg"
        ),
        family=_families(
            "O'Brien=obrien; O’Neill=oneill; Murphy=murphy; Kelly=kelly; "
            "MacCarthy=maccarthy; Ó Súilleabháin=osuilleabhain; Byrne=byrne; "
            "Fitzgerald=fitzgerald; Walsh=walsh; O'Connor=oconnor; "
            "Mac Giolla Phádraig=macgiollaphadraig"
        ),
        places=_places(
            ("Dublin", "Co. Dublin", "D0# ?###"),
            ("Cork", "Co. Cork", "T12 ?###"),
            ("Galway", "Co. Galway", "H91 ?###"),
            ("Limerick", "Co. Limerick", "V94 ?###"),
        ),
        streets=(
            "O'Connell Street",
            "Grafton Street",
            "St Patrick's Hill",
            "Shop Street",
            "Harcourt Road",
        ),
        number_first=True,
        phones=("+353 1 ### ####", "+353 8# ### ####", "08# ### ####"),
        mail_domains=("eircom.net", "gmail.com", "hotmail.com", "live.ie"),
        company_tld="ie",
        currency="EUR",
    ),
    Locale(
        code="de-DE",
        country="DE",
        country_name="Germany",
        female=_names(
            "Sophie=sophie; Hannah=hannah; Lea=lea; Jördis=joerdis; "
            "Anne-Kathrin=annekathrin; Bärbel=baerbel; Grete=grete; Ümran=uemran"
        ),
        male=_names(
            "Jürgen=juergen; Björn=bjoern; Lukas=lukas; Maximilian=maximilian; "
            "Jörg=joerg; Hans-Peter=hanspeter; Günther=guenther; Ömer=oemer"
        ),
        family=_families(
            "Müller=mueller; Schröder=schroeder; Weiß=weiss; Groß=gross; "
            "Schmidt=schmidt; Köhler=koehler; Bäcker=baecker; Fischer=fischer; "
            "Müller-Lüdenscheidt=muellerluedenscheidt; Hoffmann=hoffmann; "
            "von der Heide=vonderheide; Strauß=strauss"
        ),
        places=_places(
            ("Berlin", "Berlin", "10###"),
            ("München", "Bayern", "80###"),
            ("Köln", "Nordrhein-Westfalen", "50###"),
            ("Hamburg", "Hamburg", "20###"),
            ("Düsseldorf", "Nordrhein-Westfalen", "40###"),
            ("Görlitz", "Sachsen", "028##"),
        ),
        streets=(
            "Hauptstraße",
            "Königsallee",
            "Schillerstraße",
            "Am Weißen Stein",
            "Lindenweg",
            "Bahnhofstraße",
        ),
        phones=("+49 30 ########", "+49 1## #######", "030 ########", "+49 (0)89 #######"),
        mail_domains=("web.de", "gmx.de", "t-online.de", "posteo.de"),
        company_tld="de",
        currency="EUR",
    ),
    Locale(
        code="fr-FR",
        country="FR",
        country_name="France",
        female=_names(
            "Hélène=helene; Zoé=zoe; Anaïs=anais; Léa=lea; Céline=celine; "
            "Marie-Claire=marieclaire; Maëlle=maelle; Françoise=francoise"
        ),
        male=_names(
            "François=francois; Jean-Luc=jeanluc; Jérôme=jerome; Loïc=loic; "
            "Thibault=thibault; Gaëtan=gaetan; Benoît=benoit; Éric=eric"
        ),
        family=_families(
            "Lefèvre=lefevre; Dubois=dubois; Moreau=moreau; Girard=girard; "
            "Rousseau=rousseau; Lemaître=lemaitre; D'Arcy=darcy; Faure=faure; "
            "Chevalier=chevalier; Mercier=mercier; de La Fontaine=delafontaine"
        ),
        places=_places(
            ("Paris", "Île-de-France", "750##"),
            ("Lyon", "Auvergne-Rhône-Alpes", "6900#"),
            ("Marseille", "Provence-Alpes-Côte d'Azur", "130##"),
            ("Nantes", "Pays de la Loire", "440##"),
            ("Besançon", "Bourgogne-Franche-Comté", "250##"),
        ),
        streets=(
            "rue de la Paix",
            "avenue des Champs-Élysées",
            "boulevard Haussmann",
            "rue du Faubourg Saint-Honoré",
            "place Bellecour",
            "quai de l'Hôtel-de-Ville",
        ),
        number_first=True,
        phones=("+33 1 ## ## ## ##", "06 ## ## ## ##", "+33 (0)6 ## ## ## ##"),
        mail_domains=("orange.fr", "free.fr", "laposte.net", "wanadoo.fr"),
        company_tld="fr",
        currency="EUR",
    ),
    Locale(
        code="es-ES",
        country="ES",
        country_name="Spain",
        female=_names(
            "María=maria; Nuria=nuria; Begoña=begona; Lucía=lucia; Inés=ines; "
            "Sofía=sofia; María José=mariajose; Ainhoa=ainhoa"
        ),
        male=_names(
            "José=jose; Íñigo=inigo; Ramón=ramon; Álvaro=alvaro; Jesús=jesus; "
            "Joaquín=joaquin; José Luis=joseluis; Xavier=xavier"
        ),
        family=_families(
            "García=garcia; Núñez=nunez; Peña=pena; Fernández=fernandez; "
            "López=lopez; Martínez=martinez; Muñoz=munoz; Sánchez=sanchez; "
            "Ibáñez=ibanez; Pérez-Reverte=perezreverte; de la Cruz=delacruz"
        ),
        places=_places(
            ("Madrid", "Comunidad de Madrid", "280##"),
            ("Barcelona", "Cataluña", "080##"),
            ("Sevilla", "Andalucía", "410##"),
            ("Bilbao", "País Vasco", "480##"),
            ("A Coruña", "Galicia", "150##"),
        ),
        streets=(
            "Calle Mayor",
            "Gran Vía",
            "Passeig de Gràcia",
            "Calle de Alcalá",
            "Avenida de la Constitución",
        ),
        phones=("+34 91 ### ## ##", "+34 6## ### ###", "6## ## ## ##"),
        mail_domains=("telefonica.net", "gmail.com", "hotmail.es", "yahoo.es"),
        company_tld="es",
        currency="EUR",
    ),
    Locale(
        code="pt-BR",
        country="BR",
        country_name="Brazil",
        female=_names(
            "Conceição=conceicao; Beatriz=beatriz; Letícia=leticia; Júlia=julia; "
            "Ana Luísa=analuisa; Fernanda=fernanda; Lívia=livia"
        ),
        male=_names(
            "João=joao; Luís=luis; Antônio=antonio; Thiago=thiago; Vinícius=vinicius; "
            "Gonçalo=goncalo; João Pedro=joaopedro"
        ),
        family=_families(
            "Gonçalves=goncalves; Magalhães=magalhaes; Araújo=araujo; "
            "Simões=simoes; da Silva=dasilva; Sant'Anna=santanna; Brandão=brandao; "
            "Falcão=falcao; Assunção=assuncao; dos Santos=dossantos"
        ),
        places=_places(
            ("São Paulo", "SP", "01###-###"),
            ("Rio de Janeiro", "RJ", "20###-###"),
            ("Belo Horizonte", "MG", "30###-###"),
            ("Curitiba", "PR", "80###-###"),
        ),
        streets=(
            "Avenida Paulista",
            "Rua Augusta",
            "Rua das Flores",
            "Avenida Atlântica",
            "Praça da Sé",
        ),
        phones=("+55 11 9####-####", "(21) 9####-####", "+55 31 3###-####"),
        mail_domains=("uol.com.br", "bol.com.br", "terra.com.br", "gmail.com"),
        company_tld="com.br",
        currency="BRL",
    ),
    Locale(
        code="pl-PL",
        country="PL",
        country_name="Poland",
        female=_names(
            "Zofia=zofia; Małgorzata=malgorzata; Agnieszka=agnieszka; "
            "Żaneta=zaneta; Jadwiga=jadwiga; Katarzyna=katarzyna; Grażyna=grazyna"
        ),
        male=_names(
            "Łukasz=lukasz; Wojciech=wojciech; Paweł=pawel; Grzegorz=grzegorz; "
            "Michał=michal; Jędrzej=jedrzej; Przemysław=przemyslaw"
        ),
        family=_families(
            "Wałęsa=walesa; Krzyżanowski/Krzyżanowska=krzyzanowski/krzyzanowska; "
            "Nowak=nowak; Kowalski/Kowalska=kowalski/kowalska; "
            "Wiśniewski/Wiśniewska=wisniewski/wisniewska; Wójcik=wojcik; "
            "Kamiński/Kamińska=kaminski/kaminska; "
            "Zieliński/Zielińska=zielinski/zielinska; "
            "Dąbrowski/Dąbrowska=dabrowski/dabrowska; "
            "Brzęczyszczykiewicz=brzeczyszczykiewicz"
        ),
        places=_places(
            ("Warszawa", "mazowieckie", "00-###"),
            ("Kraków", "małopolskie", "30-###"),
            ("Łódź", "łódzkie", "90-###"),
            ("Gdańsk", "pomorskie", "80-###"),
            ("Wrocław", "dolnośląskie", "50-###"),
        ),
        streets=(
            "ulica Marszałkowska",
            "ulica Floriańska",
            "aleja Jana Pawła II",
            "ulica Długa",
            "ulica Piotrkowska",
        ),
        phones=("+48 ### ### ###", "+48 22 ### ## ##", "### ### ###"),
        mail_domains=("wp.pl", "onet.pl", "o2.pl", "interia.pl"),
        company_tld="pl",
        currency="PLN",
    ),
    Locale(
        code="tr-TR",
        country="TR",
        country_name="Türkiye",
        female=_names(
            "Çağla=cagla; Gülşen=gulsen; Ayşe=ayse; Özge=ozge; Işıl=isil; Şule=sule; İpek=ipek"
        ),
        male=_names(
            "Şükrü=sukru; İbrahim=ibrahim; Ömer=omer; Mehmet=mehmet; Emre=emre; "
            "Uğur=ugur; Ilgaz=ilgaz"
        ),
        family=_families(
            "Öztürk=ozturk; Yılmaz=yilmaz; Çelik=celik; Şahin=sahin; "
            "Doğan=dogan; Aydın=aydin; Kılıç=kilic; Güneş=gunes; Arslan=arslan; "
            "Karaağaç=karaagac"
        ),
        places=_places(
            ("İstanbul", "İstanbul", "34###"),
            ("Ankara", "Ankara", "06###"),
            ("İzmir", "İzmir", "35###"),
            ("Eskişehir", "Eskişehir", "26###"),
        ),
        streets=(
            "İstiklal Caddesi",
            "Atatürk Bulvarı",
            "Bağdat Caddesi",
            "Kıbrıs Şehitleri Caddesi",
        ),
        phones=("+90 5## ### ## ##", "0 (212) ### ## ##", "05## ### ####"),
        mail_domains=("mynet.com", "gmail.com", "yandex.com.tr", "hotmail.com"),
        company_tld="com.tr",
        currency="TRY",
    ),
    Locale(
        code="el-GR",
        country="GR",
        country_name="Greece",
        female=_names(
            "Ελένη=eleni; Μαρία=maria; Κατερίνα=katerina; Σοφία=sofia; "
            "Ιωάννα=ioanna; Αικατερίνη=aikaterini; Δέσποινα=despoina"
        ),
        male=_names(
            "Γιώργος=giorgos; Δημήτρης=dimitris; Νίκος=nikos; Αθανάσιος=athanasios; "
            "Χρήστος=christos; Παναγιώτης=panagiotis; Σπύρος=spyros"
        ),
        family=_families(
            "Παπαδόπουλος/Παπαδοπούλου=papadopoulos/papadopoulou; "
            "Οικονόμου=oikonomou; Γεωργίου=georgiou; Βασιλείου=vasileiou; "
            "Νικολάου=nikolaou; Καραγιάννης/Καραγιάννη=karagiannis/karagianni; "
            "Αντωνίου=antoniou; Μακρής/Μακρή=makris/makri; "
            "Παπαγεωργίου=papageorgiou"
        ),
        places=_places(
            ("Αθήνα", "Αττική", "1## ##"),
            ("Θεσσαλονίκη", "Κεντρική Μακεδονία", "5## ##"),
            ("Πάτρα", "Δυτική Ελλάδα", "26# ##"),
            ("Ηράκλειο", "Κρήτη", "71# ##"),
        ),
        streets=("Οδός Ερμού", "Λεωφόρος Βασιλίσσης Σοφίας", "Οδός Αιόλου", "Οδός Τσιμισκή"),
        phones=("+30 21# ### ####", "+30 69# ### ####", "69# ### ####"),
        mail_domains=("otenet.gr", "yahoo.gr", "gmail.com", "hol.gr"),
        company_tld="gr",
        currency="EUR",
    ),
    Locale(
        code="ru-RU",
        country="RU",
        country_name="Russia",
        female=_names(
            "Анна=anna; Ольга=olga; Наталья=natalya; Екатерина=ekaterina; "
            "Татьяна=tatyana; Юлия=yulia; Алёна=alyona"
        ),
        male=_names(
            "Дмитрий=dmitry; Сергей=sergey; Алексей=alexey; Юрий=yury; "
            "Михаил=mikhail; Пётр=pyotr; Андрей=andrey"
        ),
        family=_families(
            "Иванов/Иванова=ivanov/ivanova; Смирнов/Смирнова=smirnov/smirnova; "
            "Кузнецов/Кузнецова=kuznetsov/kuznetsova; Попов/Попова=popov/popova; "
            "Соколов/Соколова=sokolov/sokolova; Лебедев/Лебедева=lebedev/lebedeva; "
            "Новиков/Новикова=novikov/novikova; Фёдоров/Фёдорова=fyodorov/fyodorova; "
            "Римский-Корсаков/Римская-Корсакова=rimskykorsakov/rimskayakorsakova"
        ),
        places=_places(
            ("Москва", "Москва", "1#####"),
            ("Санкт-Петербург", "Санкт-Петербург", "19####"),
            ("Новосибирск", "Новосибирская область", "630###"),
            ("Казань", "Республика Татарстан", "420###"),
        ),
        streets=("Тверская улица", "Невский проспект", "улица Арбат", "Ленинский проспект"),
        phones=("+7 495 ###-##-##", "+7 9## ###-##-##", "8 (812) ###-##-##"),
        mail_domains=("mail.ru", "yandex.ru", "rambler.ru", "bk.ru"),
        company_tld="ru",
        currency="RUB",
    ),
    Locale(
        code="ja-JP",
        country="JP",
        country_name="Japan",
        female=_names(
            "花子=hanako; 陽菜=hina; さくら=sakura; 美咲=misaki; 結衣=yui; 由美子=yumiko"
        ),
        male=_names("太郎=taro; 翔太=shota; 健一=kenichi; 大輔=daisuke; 拓也=takuya; 蓮=ren"),
        family=_families(
            "佐藤=sato; 鈴木=suzuki; 高橋=takahashi; 田中=tanaka; 渡辺=watanabe; "
            "伊藤=ito; 山本=yamamoto; 中村=nakamura; 小林=kobayashi; 加藤=kato"
        ),
        family_first=True,
        places=_places(
            ("千代田区", "東京都", "100-####"),
            ("大阪市", "大阪府", "530-####"),
            ("横浜市", "神奈川県", "220-####"),
            ("札幌市", "北海道", "060-####"),
        ),
        streets=("丸の内", "梅田", "みなとみらい", "大通西"),
        phones=("+81 3-####-####", "090-####-####", "+81 6-####-####"),
        mail_domains=("yahoo.co.jp", "docomo.ne.jp", "nifty.com", "gmail.com"),
        company_tld="co.jp",
        currency="JPY",
    ),
    Locale(
        code="zh-CN",
        country="CN",
        country_name="China",
        female=_names("芳=fang; 娜=na; 秀英=xiuying; 敏=min; 静=jing; 艳=yan"),
        male=_names("伟=wei; 磊=lei; 强=qiang; 洋=yang; 军=jun; 建华=jianhua"),
        family=_families(
            "王=wang; 李=li; 张=zhang; 刘=liu; 陈=chen; 杨=yang; 黄=huang; "
            "赵=zhao; 吴=wu; 欧阳=ouyang"
        ),
        family_first=True,
        separator="",
        places=_places(
            ("北京市", "北京市", "100###"),
            ("上海市", "上海市", "200###"),
            ("广州市", "广东省", "510###"),
            ("深圳市", "广东省", "518###"),
        ),
        streets=("长安街", "南京路", "中山路", "人民路"),
        phones=("+86 1## #### ####", "+86 10 ########", "1## #### ####"),
        mail_domains=("qq.com", "163.com", "126.com", "sina.com"),
        company_tld="cn",
        currency="CNY",
    ),
)

COMPANY_WORDS: Final = (
    "Atlas",
    "Nordlicht",
    "Bluewave",
    "Helix",
    "Orbit",
    "Granite",
    "Meridian",
    "Cobalt",
    "Summit",
    "Lumen",
    "Kestrel",
    "Juniper",
    "Vértice",
    "Sakura",
    "Polaris",
    "Aurora",
)
COMPANY_KINDS: Final = ("Labs", "Consulting", "Group", "Trading", "Logistics", "Studio", "Systems")
JOB_TITLES: Final = (
    "Head of Marketing",
    "Sales Manager",
    "CEO",
    "Office Manager",
    "Procurement Lead",
    "Software Engineer",
    "Directrice commerciale",
    "Geschäftsführer",
    "Jefa de compras",
    "Marketing-Assistentin",
    "営業部長",
    "采购经理",
    "Менеджер по продажам",
)
FAKE_EMAILS: Final = (
    "test@test.com",
    "asdf@asdf.com",
    "noemail@noemail.com",
    "none@none.com",
    "abc@abc.com",
    "fake@fake.com",
)
"""Addresses people type when a form insists; Mailchimp refuses them as fake."""
