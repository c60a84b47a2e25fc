#!/usr/bin/env python3
"""Writes the offline demo feeds in examples/feeds/ and the expectations in
tests/integration/demo_expect.tsv from the items below.

The feeds are committed; this script is their source. Edit the texts here and
run `python3 examples/feeds/generate.py` (from anywhere): the output is
deterministic, so a re-run without edits changes nothing.

Every text here was written for the demo; none is taken from a data set.
"""

import os
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

REV_NS = "http://purl.org/stuff/rev#"  # the RDF Review vocabulary
DC_NS = "http://purl.org/dc/elements/1.1/"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
ATOM_NS = "http://www.w3.org/2005/Atom"


def item(guid, when, author, title, text, flag, cat, note="", rating=None,
         html=None, link=None):
    """flag: 1 when the analyzer must flag the text, 0 when it must not.
    cat: the expected primary category, or "-"."""
    return dict(guid=guid, when=when, author=author, title=title, text=text,
                flag=flag, cat=cat, note=note, rating=rating, html=html,
                link=link)


# ---------------------------------------------------------------- Villanyász
# Villanyász Energia: a fictional Hungarian electricity, gas and district
# heating (távhő) supplier with a customer portal, an app and a small web
# shop for smart-home devices ("okosbolt").

VILLANYASZ_REVIEWS = [
    item("vr-1001", "2026-11-20T08:12:00+01:00", "Kiss Réka",
         "Gyors és korrekt ügyintézés",
         "Költözés miatt kellett átíratni a mérőt a nevemre. Egy telefonhívás "
         "volt az egész, a kolléga mindent türelmesen elmagyarázott, és két "
         "nap múlva már az új néven jött a számla. Csak ajánlani tudom!",
         0, "-", "praise; mentions the invoice", rating=5),
    item("vr-1002", "2026-11-20T19:40:00+01:00", "Tóth Gábor",
         "Hibás számla, és senki nem felel",
         "Harmadik hónapja becsült fogyasztás alapján számláznak, pedig "
         "minden hónapban bediktálom az óraállást az appban. A mostani számla "
         "48 ezer forint, a valós fogyasztásom a fele sincs. Reklamáltam, "
         "azóta semmi.",
         1, "billing", "estimated consumption billed; rating 1/5", rating=1),
    item("vr-1003", "2026-11-21T10:05:00+01:00", "Balogh Zsófi",
         "Végre rendesen működik az app",
         "Az új Villanyász app sokkal jobb lett, mint a régi.",
         0, "-", "praise in content:encoded HTML (list); rating 4/5",
         rating=4,
         html="<p>Az új <b>Villanyász app</b> sokkal jobb lett, mint a "
              "régi:</p>\n<ul>\n<li>gyors a bejelentkezés,</li>\n"
              "<li>látszik a napi fogyasztás,</li>\n<li>a számlát egy "
              "gombnyomással ki lehet fizetni.</li>\n</ul>\n<p>Egy csillagot "
              "csak azért vonok le, mert sötét mód még mindig nincs.</p>"),
    item("vr-1004", "2026-11-21T13:30:00+01:00", "Nagy Attila",
         "Egy órát vártam a vonalban",
         "Ma reggel 8:10-kor hívtam az ügyfélszolgálatot, és 9:12-kor tettem "
         "le. Végig ment a zene meg a \"hívása fontos számunkra\". Chaten sem "
         "válaszol senki, az e-mailemre két hete nem jött válasz.",
         1, "support", "on hold for an hour; rating 1/5", rating=1),
    item("vr-1005", "2026-11-21T17:55:00+01:00", "Fekete Judit",
         "Bunkó szerelő",
         "A mérőcserére kijött szerelő köszönés nélkül, sáros cipőben jött "
         "be a lakásba. Amikor szóltam, hogy vegye le, csak annyit mondott, "
         "hogy \"nem érek rá ilyenekre\". Lekezelő, arrogáns viselkedés, "
         "ilyen emberre nem kellene ügyfeleket bízni.",
         1, "staff", "rude technician; rating 2/5", rating=2),
    item("vr-1006", "2026-11-22T09:20:00+01:00", "Szűcs Márton",
         "Átlagos szolgáltató",
         "Se jobb, se rosszabb, mint a többi szolgáltató. Az árak a "
         "szokásosak, a számla időben megjön, az app használható. Semmi "
         "extra, de gond sincs vele.",
         0, "-", "neutral; 'gond sincs' is negated; rating 3/5", rating=3),
    item("vr-1007", "2026-11-22T11:45:00+01:00", "Horváth Ildikó",
         "Megint drágultak",
         "Januártól újra emelik az alapdíjat, ez már a második áremelés "
         "idén. A rendszerhasználati díj is magasabb lett, a kedvezményes "
         "tarifát pedig csendben megszüntették. Nagyon drága lett az egész, "
         "nem éri meg.",
         1, "pricing", "price rise; rating 2/5", rating=2),
    item("vr-1008", "2026-11-22T16:10:00+01:00", "Molnár Bence",
         "Felmondom a szerződést",
         "Elegem van. Hét éve vagyok ügyfél, és most, hogy lejárt a "
         "hűségidő, azonnal felmondom. A gázt is átviszem a konkurenciához. "
         "Soha többet Villanyász!",
         1, "churn", "churn threat ('felmondom'); rating 1/5", rating=1),
    item("vr-1009", "2026-11-22T20:30:00+01:00", "Varga Eszter",
         "Nem rossz, sőt!",
         "Féltem a szolgáltatóváltástól, de semmi gond nem volt: az átállás "
         "zökkenőmentes volt, a kolléganő türelmes és kedves volt, a "
         "kedvezményt pedig rögtön jóváírták. Köszönöm!",
         0, "-", "praise; 'nem rossz', 'semmi gond'; rating 5/5", rating=5),
    item("vr-1010", "2026-11-23T07:15:00+01:00", "Papp Dóra",
         "Nem tudok belépni az ügyfélportálra",
         "Jelszócsere után kizárt a rendszer, azóta minden belépésnél azt "
         "írja, hogy \"hibás felhasználónév vagy jelszó\". Az új jelszót "
         "kérő e-mail pedig sosem érkezik meg, így a számláimat sem látom.",
         1, "account", "locked out after password reset; rating 1/5",
         rating=1),
    item("vr-1011", "2026-11-23T10:50:00+01:00", "Lakatos Imre",
         "A garanciát nem vállalják",
         "A Villanyász okosboltjában vettem egy okos termosztátot, öt hónap "
         "után már bekapcsolni sem lehet. Garanciális javításra küldtem "
         "volna, de azt írták, hogy ez \"nem gyártási hiba\", ezért nem "
         "cserélik. A jótállási jegyen egy év áll!",
         1, "warranty", "warranty refused; also: defect; rating 2/5",
         rating=2),
    item("vr-1012", "2026-11-23T14:25:00+01:00", "hajdu_zoli",
         "az app folyton kifagy",
         "frissites ota az app minden inditasnal kidob, nem tudom bediktalni "
         "az oraallast es a szamlat se tudom kifizetni benne. samsung "
         "telefon, android 14. javitsatok mar meg!!!",
         1, "technical", "app crash, typed without accents; rating 2/5",
         rating=2),
]

# The forum feed is written in ISO-8859-2: no emoji, no typographic quotes.
VILLANYASZ_FORUM = [
    item("energiaforum-t812-p1", "2026-11-20T21:05:00+01:00", "lakotelepi_juli",
         "Mérőóra-leolvasás időpontja",
         "Sziasztok! Valaki tudja, hogy a Villanyásznál mikor jön idén a "
         "leolvasó a XIII. kerületben? Nem szeretnék becsült számlát kapni, "
         "ha épp nem vagyok otthon.",
         0, "-", "question"),
    item("energiaforum-t815-p1", "2026-11-21T08:30:00+01:00", "Kertész Béla",
         "Hol a csomagom?",
         "Október 30-án rendeltem a Villanyász okosboltjából egy "
         "okoskonnektor szettet, háromnapos szállítást ígértek. Azóta sem "
         "jött meg, a futár szerint kiszállították, pedig egész nap itthon "
         "voltam. Senki nem tudja megmondani, hol van a csomag.",
         1, "delivery", "parcel lost"),
    item("energiaforum-t815-p2", "2026-11-21T09:12:00+01:00", "gyuri1975",
         "Re: Hol a csomagom?",
         "Nálam tavaly ugyanez volt, végül a csomagpontban lett meg, és az "
         "ügyfélszolgálat tíz perc alatt kiderítette. Azóta is minden "
         "rendben ment velük, szerintem hívd fel őket.",
         0, "-", "helpful reply, praise of support"),
    item("energiaforum-t818-p1", "2026-11-21T22:40:00+01:00", "Szilágyi Nóra",
         "Megolvadt az okoskonnektor!",
         "Tegnap este égett szagot éreztünk: a Villanyász okoskonnektora "
         "teljesen felforrósodott, és a műanyag megolvadt a dugó körül. "
         "Szerencsére itthon voltunk, különben leéghetett volna a lakás. "
         "Tűzveszélyes, azonnal ki kellene vonni a forgalomból!",
         1, "safety", "smart plug melted, fire risk"),
    item("energiaforum-t820-p1", "2026-11-22T12:15:00+01:00", "Orsós Kinga",
         "Visszaküldtem, a pénz sehol",
         "Elállási jogommal éltem, 14 napon belül visszaküldtem a bontatlan "
         "terméket. Azóta öt hét telt el, a vételárat még mindig nem "
         "utalták vissza. Háromszor írtam nekik, mindig azt válaszolják, "
         "hogy folyamatban van.",
         1, "refund", "refund after withdrawal not paid"),
    item("energiaforum-t821-p1", "2026-11-22T15:00:00+01:00", "Bíró Levente",
         "Új tarifák 2027-től",
         "Kijött a Villanyász tájékoztatója a jövő évi tarifákról, itt a "
         "link, ha valaki nézegetné. Nekem a havi díj nagyjából ugyanannyi "
         "marad.",
         0, "-", "neutral information"),
    item("energiaforum-t822-p1", "2026-11-22T18:20:00+01:00", "Vörös Gergő",
         "Fogyasztóvédelemhez fordulok",
         "A kikapcsolás előtt semmilyen felszólítást nem kaptam, pedig "
         "minden számlát kifizettem, a banki kivonatok megvannak. Két napig "
         "áram nélkül voltunk egy kisgyerekkel. Panaszt tettem a "
         "fogyasztóvédelemnél és a békéltető testületnél is, és ügyvédet "
         "fogadtam.",
         1, "legal", "consumer protection, lawyer; also: billing"),
    item("energiaforum-t824-p1", "2026-11-23T07:45:00+01:00", "Sárközi Ádám",
         "Silány okosizzók",
         "Hat okosizzót vettem a Villanyász webshopjában, ebből négy egy "
         "hónapon belül kiégett, a maradék kettő folyamatosan villog. "
         "Silány minőség, kidobott pénz.",
         1, "defect", "defective bulbs"),
    item("energiaforum-t825-p1", "2026-11-23T13:05:00+01:00", "feri_bacsi",
         "ugyfelszolgalat nem valaszol",
         "harom hete irtam az ugyfelszolgalatnak a villanyasz oldalan, "
         "azota semmi valasz, telefonon meg 40 perc varakozas utan bontottak "
         "a vonalat. ez igy nem mukodik",
         1, "support", "no answer, typed without accents"),
]

# Social posts, as a social-listening tool exports them (Atom). The surge:
# fourteen billing complaints about the same November invoice run (district
# heating billed at 27% VAT instead of 5%, and a double direct debit)
# between 09:04 and 09:55 (+01:00) on Monday 2026-11-23.
VILLANYASZ_SOCIAL = [
    item("vs-2001", "2026-11-21T18:40:00+01:00", "szabo.anna82",
         None,
         "Köszi @villanyasz, a vihar után két órán belül visszajött az áram "
         "👏 le a kalappal a szerelők előtt",
         0, "-", "praise"),
    item("vs-2002", "2026-11-22T10:15:00+01:00", "Mészáros Tamás",
         None,
         "Valaki tudja, hogy a Villanyász appban hol lehet e-számlára "
         "váltani? 🤔",
         0, "-", "question"),
    item("vs-2003", "2026-11-22T14:30:00+01:00", "kovacs_pisti",
         None,
         "Na, ennyi volt. Felmondom a Villanyászt, jövő hónaptól a "
         "Fénypontnál leszek. Három év alatt egyszer nem sikerült elsőre "
         "megoldani semmit.",
         1, "churn", "switching to a competitor"),
    item("vs-2004", "2026-11-22T19:05:00+01:00", "Pintér Erika",
         None,
         "Az ügyfélszolgálatos hölgy konkrétan kinevetett, amikor mondtam, "
         "hogy nem értem a számlát. Ilyen bunkó hozzáállást még nem "
         "láttam 😡",
         1, "staff", "rude agent; mentions the invoice"),
    item("vs-2005", "2026-11-23T06:50:00+01:00", "rolandgym",
         None,
         "VILLANYÁSZ APP MEGINT NEM MŰKÖDIK!!! fél órája próbálok fizetni, "
         "mindig hibaüzenetet dob 🤬",
         1, "technical", "app down, all caps"),
    item("vs-2006", "2026-11-23T07:40:00+01:00", "Farkas Lili",
         None,
         "Reggeli kávé, a Villanyász-számla befizetve az appban, mehet a "
         "hétfő ☕",
         0, "-", "neutral, mentions paying the invoice"),
    # --- the surge: 14 billing complaints, 09:04-09:55 +01:00 ---
    item("vs-2007", "2026-11-23T09:04:00+01:00", "Simon Kata",
         None,
         "Most nyitottam meg a novemberi számlát: 27% áfát számoltak a "
         "távhőre, ami 5%-os! Mi ez, Villanyász?? 😡",
         1, "billing", "surge 1/14: wrong VAT"),
    item("vs-2008", "2026-11-23T09:08:00+01:00", "b.kriszti",
         None,
         "nalam is 27% afa van a tavho szamlan 5 helyett. ez most "
         "komoly?? #villanyasz",
         1, "billing", "surge 2/14: wrong VAT, no accents"),
    item("vs-2009", "2026-11-23T09:11:00+01:00", "Lukács Ferenc",
         None,
         "Hibás a novemberi számla, a távhő rossz áfakulccsal ment ki. Ki "
         "fogja ezt nekem visszafizetni?",
         1, "billing", "surge 3/14: wrong VAT rate"),
    item("vs-2010", "2026-11-23T09:15:00+01:00", "Halász Norbert",
         None,
         "KÉTSZER LEVONTÁK a számlát a bankszámlámról csoportos "
         "beszedéssel!!! Ugyanaz az összeg, ugyanaz a sorszám. Köszi "
         "Villanyász 🤬",
         1, "billing", "surge 4/14: double direct debit, caps"),
    item("vs-2011", "2026-11-23T09:19:00+01:00", "Gulyás Emese",
         None,
         "Nem csak nálunk: a szomszédnak is hibás a számlája, 5% helyett "
         "27%-kal számolták az áfát. Tömeges számlázási hiba?",
         1, "billing", "surge 5/14: wrong VAT"),
    item("vs-2012", "2026-11-23T09:23:00+01:00", "tomi_sz",
         None,
         "rossz afakulcs a szamlan, 20 ezerrel tobb mint a mult honapban. "
         "felhivnam oket, de 45 perce varok a vonalban...",
         1, "billing", "surge 6/14: wrong VAT; also: support"),
    item("vs-2013", "2026-11-23T09:27:00+01:00", "Oláh Márta",
         None,
         "A Villanyász ma reggel elrontott számlákat küldött ki, nálam 27%-os "
         "áfa szerepel a távhő soron. Nem fizetem be, amíg nem javítják.",
         1, "billing", "surge 7/14: wrong VAT"),
    item("vs-2014", "2026-11-23T09:31:00+01:00", "Fodor Dániel",
         None,
         "Duplán terheltek meg 😤 két azonos számla jött e-mailben, és "
         "mindkettőt le is vonták.",
         1, "billing", "surge 8/14: double charge"),
    item("vs-2015", "2026-11-23T09:34:00+01:00", "vargaadrienn",
         None,
         "szamlazasi hiba van a villanyasznal?? a tavhonel 27% afa, tavaly "
         "5 volt. rohadtul nem vicces",
         1, "billing", "surge 9/14: wrong VAT, no accents"),
    item("vs-2016", "2026-11-23T09:38:00+01:00", "Antal Zsuzsa",
         None,
         "Mai Villanyász-számla: az áfa rovatban 27%. Távhőre. Mióta? "
         "Valaki elmagyarázná?",
         1, "billing", "surge 10/14: wrong VAT, as a question"),
    item("vs-2017", "2026-11-23T09:42:00+01:00", "Bakos Henrik",
         None,
         "Hogy lehet egy energiacégnek ennyire elrontani egy számlát? Rossz "
         "áfa, rossz végösszeg, és a portálon reklamálni sem lehet.",
         1, "billing", "surge 11/14: wrong invoice"),
    item("vs-2018", "2026-11-23T09:46:00+01:00", "Jakab Orsolya",
         None,
         "Túlszámláztak: a novemberi számlámon több mint 7000 Ft-tal több "
         "az áfa, mint kellene. Kérem a korrekciót, @villanyasz!",
         1, "billing", "surge 12/14: overbilled VAT"),
    item("vs-2019", "2026-11-23T09:51:00+01:00", "Somogyi Péter",
         None,
         "A csoportos beszedés kétszer vitte le a novemberi számla összegét, "
         "most mínuszban van a bankszámlám 😡😡",
         1, "billing", "surge 13/14: double direct debit"),
    item("vs-2020", "2026-11-23T09:55:00+01:00", "Kelemen Vera",
         None,
         "Na jó, ez a hibás áfás számla már a harmadik ismerősömnél. "
         "Villanyász, mi történt a számlázással??",
         1, "billing", "surge 14/14: wrong VAT"),
    # --- end of the surge ---
    item("vs-2021", "2026-11-23T09:40:00+01:00", "Dr. Nemes Gábor",
         None,
         "Ha holnapig nem javítják a hibás áfát és nem utalják vissza a "
         "dupla levonást, a fogyasztóvédelemhez fordulok, és a bankomnál "
         "visszaterhelést kérek.",
         1, "legal", "inside the surge hour but a legal threat; "
         "also: billing"),
    item("vs-2022", "2026-11-23T12:20:00+01:00", "Veres Anikó",
         None,
         "Jött SMS a Villanyásztól: a novemberi számlákat kijavítják és "
         "újra kiküldik, a különbözetet jóváírják. Gyorsan reagáltak, ez "
         "korrekt 👍",
         0, "-", "the company's fix, welcomed"),
    item("vs-2023", "2026-11-23T13:45:00+01:00", "Czinege Bálint",
         None,
         "Az okosboltos rendelésem (okos termosztát) dobozát teljesen "
         "szétnyomva hozta a futár, a kijelző megrepedt. Kösz szépen... 😒",
         1, "delivery", "damaged parcel; also: defect"),
    item("vs-2024", "2026-11-23T15:10:00+01:00", "Rácz Hajnalka",
         None,
         "@villanyasz a decemberi részszámlát is lehet csoportos "
         "beszedéssel fizetni, vagy azt külön kell indítani?",
         0, "-", "question"),
]

# ---------------------------------------------------------------- Acme
# Acme: a fictional English web shop (electronics, home goods, clothes).

ACME_REVIEWS = [
    item("r-3001", "2026-11-20T09:14:00Z", "Helen W.",
         "Fast delivery, great headphones",
         "Ordered on Monday, arrived Tuesday morning and well packed. The "
         "headphones sound great and the battery lasts all week. Will order "
         "again.",
         0, "-", "praise; rating 5/5", rating=5),
    item("r-3002", "2026-11-20T16:02:00Z", "Marcus O.",
         "Two weeks late and counting",
         "Paid for next-day delivery on 6 November. Two weeks later the "
         "parcel still says 'in transit', and every time I ask, I'm told to "
         "wait another 48 hours.",
         1, "delivery", "late delivery; rating 1/5", rating=1),
    item("r-3003", "2026-11-21T08:47:00Z", "Priya S.",
         "Charged twice for one order",
         "My card was charged twice for the same order, £89.99 each time, "
         "and the invoice in my account lists both payments. Nobody has "
         "explained why.",
         1, "billing", "double charge; rating 1/5", rating=1),
    item("r-3004", "2026-11-21T12:30:00Z", "Tom B.",
         "Stopped working after a week",
         "The blender was fine for a week, then the motor started making a "
         "grinding noise and now it won't turn on at all. Poor build quality "
         "for the price.",
         1, "defect", "product defect; rating 2/5", rating=2),
    item("r-3005", "2026-11-21T19:18:00Z", "Angela R.",
         "Does the job",
         "Decent kettle for the money. Boils quickly, a bit loud. Nothing "
         "special, nothing wrong with it either.",
         0, "-", "neutral; rating 3/5", rating=3),
    item("r-3006", "2026-11-22T07:55:00Z", "Daniel K.",
         "Charger overheated and melted",
         "The Acme 65W USB-C charger got so hot that it melted the plastic "
         "around the plug and left a burn mark on my desk. This is a fire "
         "hazard. I've unplugged every Acme charger in the house.",
         1, "safety", "overheating charger; rating 1/5", rating=1),
    item("r-3007", "2026-11-22T11:40:00Z", "Sophie L.",
         "Still waiting for my refund",
         "Returned the jacket within the 30 days, tracked and signed for on "
         "2 November. Three weeks later there is still no refund, and the "
         "returns portal just says 'processing'.",
         1, "refund", "refund not paid; rating 1/5", rating=1),
    item("r-3008", "2026-11-22T15:05:00Z", "Graham P.",
         "Not bad at all",
         "Not bad at all for a budget vacuum. Light, easy to empty, and "
         "customer service answered my question about filters within an "
         "hour.",
         0, "-", "praise; 'not bad'; rating 4/5", rating=4),
    item("r-3009", "2026-11-22T18:22:00Z", "Nadia F.",
         "Love the lamp",
         "The lamp itself is beautiful and exactly as pictured. Five stars "
         "for the product, but delivery took three weeks and nobody told me "
         "about the delay.",
         1, "delivery", "5-star review with a delivery complaint: low "
         "severity; rating 5/5", rating=5),
    item("r-3010", "2026-11-23T08:10:00Z", "Owen J.",
         "Warranty claim rejected",
         "My Acme robot vacuum died at 14 months, well within the two-year "
         "warranty. They rejected the claim as 'accidental damage' without "
         "even inspecting it.",
         1, "warranty", "warranty refused; rating 1/5", rating=1),
    item("r-3011", "2026-11-23T10:35:00Z", "Lucy M.",
         "On hold for an hour",
         "I was on hold for over an hour and then the call dropped. Live "
         "chat has been 'unavailable' for three days and my emails go "
         "unanswered. Is anyone actually working there?",
         1, "support", "unreachable support; rating 1/5", rating=1),
    item("r-3012", "2026-11-23T11:50:00Z", "Ben T.",
         "Rude staff at the collection desk",
         "The man at the Acme collection point rolled his eyes, told me to "
         "'read the email properly' and refused to look up my order. "
         "Incredibly rude and condescending.",
         1, "staff", "rude staff; rating 2/5", rating=2),
    item("r-3013", "2026-11-23T13:20:00Z", "Chloe A.",
         "Excellent customer service",
         "I ordered the wrong size and Acme sorted it out in one email: free "
         "exchange, return label sent the same day. Brilliant service, thank "
         "you!",
         0, "-", "praise that mentions a problem; rating 5/5", rating=5),
    item("r-3014", "2026-11-23T14:45:00Z", "Victor H.",
         "Chargeback filed",
         "Acme kept my money for an order they cancelled themselves. After "
         "six weeks of excuses I've filed a chargeback with my bank and "
         "reported them to Trading Standards.",
         1, "legal", "chargeback, authority; also: refund; rating 1/5",
         rating=1),
]

ACME_SOCIAL = [
    item("as-4001", "2026-11-20T12:00:00Z", "@lena_bakes",
         None,
         "Shoutout to @acme for replacing my chipped mixing bowl, no "
         "questions asked 🙌 #acme",
         0, "-", "praise that mentions a fault"),
    item("as-4002", "2026-11-20T17:30:00Z", "@conor_d",
         None,
         "Does anyone know if @acme ships to Ireland? The checkout page "
         "isn't very clear about it.",
         0, "-", "question"),
    item("as-4003", "2026-11-21T09:45:00Z", "@jaz_m",
         None,
         "@acme your app crashes every single time I open the basket. "
         "iPhone 15, latest update. Can't check out at all 😡",
         1, "technical", "app crash"),
    item("as-4004", "2026-11-21T14:10:00Z", "@robfromleeds",
         None,
         "Locked out of my @acme account after a password reset, and the "
         "reset email never arrives. Three days now.",
         1, "account", "locked out"),
    item("as-4005", "2026-11-21T20:25:00Z", "@mia.k",
         None,
         "Acme says my parcel was delivered. It wasn't. The photo 'proof' "
         "shows someone else's front door. Parcel lost, £140 gone. #acme",
         1, "delivery", "lost parcel"),
    item("as-4006", "2026-11-22T08:05:00Z", "@pete_w",
         None,
         "That's it. Cancelling my Acme Plus membership today and switching "
         "to Brightcart. Years of loyalty for nothing.",
         1, "churn", "switching to a competitor"),
    item("as-4007", "2026-11-22T13:15:00Z", "@inkyfingers",
         None,
         "Acme put the price of the same printer ink up by 30% overnight. "
         "£38 for one cartridge is a joke.",
         1, "pricing", "price rise"),
    item("as-4008", "2026-11-22T16:40:00Z", "Northern Retail Blog",
         "Acme opens a new warehouse in Leeds",
         "Acme opens a new warehouse in Leeds.",
         0, "-", "neutral news, HTML in content:encoded",
         html="<p><strong>Acme</strong> opened its new warehouse in Leeds "
              "this week.</p>\n<p>The site will handle <em>next-day</em> "
              "orders for the North of England and employs about 300 "
              "people.</p>\n<script>trackView('acme-leeds')</script>"),
    item("as-4009", "2026-11-22T21:00:00Z", "@gardenglass",
         None,
         "Parcel from @acme arrived crushed, the box soaked through, glass "
         "vase in pieces. Great packaging, guys 👎",
         1, "delivery", "damaged parcel"),
    item("as-4010", "2026-11-23T09:30:00Z", "@sam_reads",
         None,
         "Honestly the best online shop I've used this year, @acme even "
         "delivered on a Sunday 😍",
         0, "-", "praise"),
    item("as-4011", "2026-11-23T11:05:00Z", "@harriet_j",
         None,
         "If @acme doesn't refund me by Friday I'm taking them to the small "
         "claims court. My lawyer's letter is ready.",
         1, "legal", "court, lawyer; also: refund"),
    item("as-4012", "2026-11-23T12:40:00Z", "@dev_null_dan",
         None,
         "Day 5 of waiting for @acme support to reply to a simple question. "
         "Ticket 88412, still 'open'. Anyone there??",
         1, "support", "no reply"),
    item("as-4013", "2026-11-23T15:20:00Z", "@kwame.a",
         None,
         "Sent the faulty speaker back to @acme a month ago and still no "
         "refund. I even paid for the return postage myself.",
         1, "refund", "refund not paid; also: defect"),
]

# ---------------------------------------------------------------- general
# A news aggregator with no brand: mentions naming no watched brand are
# stored but never queued.
NEWS = [
    item("news-5001", "2026-11-21T06:00:00Z", "Newsdesk",
         "Retail sales rise ahead of Black Friday",
         "Online retailers reported a 6% rise in orders in the week before "
         "Black Friday, with electronics and toys leading the growth.",
         0, "-", "no watched brand", link="https://news.example.net/en/5001"),
    item("news-5002", "2026-11-21T15:30:00Z", "Money Desk",
         "Readers' letters: my energy supplier billed me twice",
         "A reader writes that her energy supplier charged her twice for "
         "October and took six weeks to return the money.",
         1, "billing", "complaint naming no watched brand: stored, "
         "not queued", link="https://news.example.net/en/5002"),
    item("news-5003", "2026-11-22T07:10:00Z", "Local Desk",
         "Acme Road closed for resurfacing",
         "Acme Road will be closed for resurfacing from Monday until "
         "mid-December; buses 12 and 47 are diverted via Mill Lane.",
         0, "-", "excluded 'acme road': not about Acme",
         link="https://news.example.net/en/5003"),
    item("news-5004", "2026-11-22T10:00:00Z", "Business Desk",
         "Acme tops online retailer satisfaction survey",
         "Shoppers rated Acme first among twenty online retailers for "
         "delivery speed and ease of returns in this year's survey.",
         0, "-", "about Acme, positive",
         link="https://news.example.net/en/5004"),
    item("news-5005", "2026-11-23T08:30:00Z", "Consumer Desk",
         "Shoppers say Acme deliveries are running days late",
         "Several shoppers told us that their Acme orders arrived up to a "
         "week late this month, and some parcels never turned up at all.",
         1, "delivery", "about Acme on a general source: queued",
         link="https://news.example.net/en/5005"),
    item("hirek-6001", "2026-11-22T06:30:00+01:00", "Időjárás rovat",
         "Hidegfront érkezik, a hét végén havazhat",
         "Csütörtöktől erős északnyugati szél és jelentős lehűlés várható, "
         "a hétvégén az északi megyékben havazás is előfordulhat.",
         0, "-", "no watched brand",
         link="https://hirek.example.net/belfold/6001"),
    item("hirek-6002", "2026-11-22T12:40:00+01:00", "Olvasói levelek",
         "Egy órát vártam a telefonos ügyfélszolgálaton",
         "Egy olvasónk arról írt, hogy a szolgáltatója telefonos "
         "ügyfélszolgálatán egy órát várakozott, aztán bontották a hívást, "
         "és senki nem hívta vissza.",
         1, "support", "complaint naming no watched brand: stored, "
         "not queued", link="https://hirek.example.net/olvasok/6002"),
    item("hirek-6003", "2026-11-23T11:30:00+01:00", "Gazdaság rovat",
         "Hibás számlákat küldött ki a Villanyász",
         "Több száz ügyfél panaszkodik, hogy a Villanyász novemberi "
         "távhőszámláin 5 helyett 27 százalékos áfakulcs szerepel, "
         "másoknál kétszer vonták le ugyanazt az összeget. A cég közölte, "
         "hogy vizsgálja az ügyet.",
         1, "billing", "about Villanyász on a general source: queued; "
         "outside the surge hour",
         link="https://hirek.example.net/gazdasag/6003"),
    item("hirek-6004", "2026-11-23T14:00:00+01:00", "Helyi hírek",
         "Új ügyfélpontot nyit a Villanyász Debrecenben",
         "December elsejétől a Piac utcában is intézhetik ügyeiket a "
         "Villanyász ügyfelei, hétköznap reggel nyolctól este hatig.",
         0, "-", "about Villanyász, neutral",
         link="https://hirek.example.net/helyi/6004"),
]


# ---------------------------------------------------------------- writers

def parse_when(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def rfc822(s):
    return format_datetime(parse_when(s))


def rfc3339(s):
    return s


def newest_first(items):
    """Feeds list their newest item first; the TSV keeps the order above."""
    return sorted(items, key=lambda it: parse_when(it["when"]), reverse=True)


def rating_xml(r, indent):
    if r is None:
        return ""
    return (f"{indent}<rev:rating>{r}</rev:rating>\n"
            f"{indent}<rev:minRating>1</rev:minRating>\n"
            f"{indent}<rev:maxRating>5</rev:maxRating>\n")


def cdata(s):
    assert "]]>" not in s
    return "<![CDATA[" + s + "]]>"


def write_rss(name, items, title, link, desc, lang, link_base,
              encoding="UTF-8", ratings=False):
    ns = f' xmlns:dc="{DC_NS}" xmlns:content="{CONTENT_NS}"'
    if ratings:
        ns += f' xmlns:rev="{REV_NS}"'
    out = [f'<?xml version="1.0" encoding="{encoding}"?>\n',
           f'<rss version="2.0"{ns}>\n', "  <channel>\n",
           f"    <title>{escape(title)}</title>\n",
           f"    <link>{escape(link)}</link>\n",
           f"    <description>{escape(desc)}</description>\n",
           f"    <language>{lang}</language>\n" if lang else "",
           "    <lastBuildDate>Mon, 23 Nov 2026 16:00:00 +0000</lastBuildDate>\n"]
    for it in newest_first(items):
        url = it["link"] or link_base + it["guid"]
        out.append("    <item>\n")
        if it["title"]:
            out.append(f"      <title>{escape(it['title'])}</title>\n")
        out.append(f"      <link>{escape(url)}</link>\n")
        out.append(f'      <guid isPermaLink="false">{escape(it["guid"])}'
                   "</guid>\n")
        out.append(f"      <pubDate>{rfc822(it['when'])}</pubDate>\n")
        out.append(f"      <dc:creator>{escape(it['author'])}</dc:creator>\n")
        out.append(f"      <description>{escape(it['text'])}</description>\n")
        if it["html"]:
            out.append(f"      <content:encoded>{cdata(it['html'])}"
                       "</content:encoded>\n")
        out.append(rating_xml(it["rating"], "      "))
        out.append("    </item>\n")
    out.append("  </channel>\n</rss>\n")
    data = "".join(out).encode(encoding.lower(), errors="strict")
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def write_atom(name, items, title, feed_id, base, self_href, alt_href,
               lang, ratings=False, html_title=False):
    ns = f' xmlns="{ATOM_NS}"'
    if ratings:
        ns += f' xmlns:rev="{REV_NS}"'
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n',
           f'<feed{ns} xml:lang="{lang}" xml:base={quoteattr(base)}>\n',
           f"  <title>{escape(title)}</title>\n",
           f"  <id>{escape(feed_id)}</id>\n",
           f'  <link rel="self" href={quoteattr(self_href)}/>\n',
           f'  <link rel="alternate" href={quoteattr(alt_href)}/>\n',
           "  <updated>2026-11-23T16:00:00Z</updated>\n"]
    for it in newest_first(items):
        out.append("  <entry>\n")
        out.append(f"    <id>{escape(it['guid'])}</id>\n")
        if it["title"]:
            out.append(f"    <title>{escape(it['title'])}</title>\n")
        else:
            out.append("    <title/>\n")
        href = it["link"] or it["guid"].rsplit(":", 1)[-1]
        out.append(f'    <link rel="alternate" href={quoteattr(href)}/>\n')
        out.append(f"    <published>{rfc3339(it['when'])}</published>\n")
        out.append(f"    <updated>{rfc3339(it['when'])}</updated>\n")
        out.append(f"    <author><name>{escape(it['author'])}</name>"
                   "</author>\n")
        out.append(f'    <content type="text">{escape(it["text"])}'
                   "</content>\n")
        out.append(rating_xml(it["rating"], "    "))
        out.append("  </entry>\n")
    out.append("</feed>\n")
    with open(os.path.join(HERE, name), "wb") as f:
        f.write("".join(out).encode("utf-8"))


def atom_ids(items, prefix):
    for it in items:
        it["guid"] = prefix + it["guid"]


# The partner's export script died after writing the prolog: no root
# element, nothing a parser can recover.
BROKEN = """<?xml version="1.0" encoding="UTF-8"?>
<!-- PartnerExport 2.3: Acme marketplace reviews, generated 2026-11-23T05:00:01Z -->

Fatal error: Allowed memory size of 134217728 bytes exhausted (tried to allocate 20480 bytes) in /var/www/partner-export/reviews-feed.php on line 112
"""


def main():
    write_rss("villanyasz-reviews.xml", VILLANYASZ_REVIEWS,
              "Villanyász Energia értékelései - Értékelő",
              "https://ertekelo.example.hu/ceg/villanyasz-energia",
              "Vásárlói értékelések a Villanyász Energiáról", "hu",
              "https://ertekelo.example.hu/ertekeles/", ratings=True)
    write_rss("villanyasz-forum.xml", VILLANYASZ_FORUM,
              "Energiafórum - Villanyász topik",
              "https://energiaforum.example.hu/topik/villanyasz",
              "Az Energiafórum Villanyászról szóló hozzászólásai", "hu",
              "https://energiaforum.example.hu/hsz/",
              encoding="ISO-8859-2")
    atom_ids(VILLANYASZ_SOCIAL, "tag:figyelo.example.hu,2026:villanyasz/")
    for it in VILLANYASZ_SOCIAL:
        it["link"] = ("https://social.example.hu/post/"
                      + it["guid"].rsplit("/", 1)[-1])
    write_atom("villanyasz-social.xml", VILLANYASZ_SOCIAL,
               "Villanyász említések (Figyelő export)",
               "tag:figyelo.example.hu,2026:villanyasz",
               "https://figyelo.example.hu/export/",
               "https://figyelo.example.hu/export/villanyasz.atom",
               "https://figyelo.example.hu/kereses?q=villanyasz", "hu")
    atom_ids(ACME_REVIEWS, "tag:trustyreviews.example.com,2026:acme:")
    for it in ACME_REVIEWS:
        it["link"] = "reviews/" + it["guid"].rsplit(":", 1)[-1]
    write_atom("acme-reviews.xml", ACME_REVIEWS,
               "Acme reviews - TrustyReviews",
               "tag:trustyreviews.example.com,2026:acme",
               "https://trustyreviews.example.com/shop/acme/",
               "https://trustyreviews.example.com/shop/acme/feed.atom",
               "https://trustyreviews.example.com/shop/acme/", "en",
               ratings=True)
    write_rss("acme-social.xml", ACME_SOCIAL,
              "Mentions of Acme - social search",
              "https://social.example.com/search?q=acme",
              "Public posts that mention Acme", "en",
              "https://social.example.com/p/")
    write_rss("news.xml", NEWS, "Hírek / News - aggregated",
              "https://news.example.net/",
              "General news from two newsrooms, Hungarian and English", "",
              "https://news.example.net/")
    with open(os.path.join(HERE, "acme-partner.xml"), "wb") as f:
        f.write(BROKEN.encode("utf-8"))

    sources = [("villanyasz-reviews", VILLANYASZ_REVIEWS),
               ("villanyasz-forum", VILLANYASZ_FORUM),
               ("villanyasz-social", VILLANYASZ_SOCIAL),
               ("acme-reviews", ACME_REVIEWS),
               ("acme-social", ACME_SOCIAL),
               ("news", NEWS)]
    lines = ["# earshot demo expectations, generated by "
             "examples/feeds/generate.py: do not edit by hand.\n",
             "# source\tguid (RSS guid / Atom id)\tflag (1 = the analyzer "
             "must flag the text)\tprimary category or -\tnote\n",
             "# The source acme-partner is broken on purpose and yields no "
             "items. Queued = flagged and about a watched brand.\n"]
    for src, items in sources:
        for it in items:
            for field in ("guid", "cat", "note"):
                assert "\t" not in it[field] and "\n" not in it[field]
            lines.append(f"{src}\t{it['guid']}\t{it['flag']}\t{it['cat']}\t"
                         f"{it['note']}\n")
    tsv = os.path.join(ROOT, "tests", "integration", "demo_expect.tsv")
    with open(tsv, "w", encoding="utf-8") as f:
        f.write("".join(lines))


if __name__ == "__main__":
    main()
