"""Synthetic but realistic screening lists and parties (bench/bench_screening.py, and H4's
assessment comparison).

An OpenSanctions-like mix: persons (Russian with a Cyrillic alias and patronymic, Arabic with
an Arabic-script alias, Western European, Chinese pinyin), companies (one to three words of a
long-tailed vocabulary, a legal form of their country, INN/LEI for some), vessels with IMO
numbers. Names are drawn with Zipf-like weights over pools built from syllables, so common
names are common (large posting lists) and the tail is long, as in real lists.

``generate(n, path, seed)`` writes FtM JSON lines and returns nothing; ``parties(...)`` yields
(PartyQuery, expected entry id or None) for variants of listed entries (re-ordered, Cyrillic
or Arabic script, a typo, another company form) and for unlisted parties.

Two name pools (``use_pools``): "diverse" (the default) draws surnames, Arabic family names,
company words and vessel names from pools of hundreds of thousands (syllable- and root-built,
Zipf-weighted: a few common, a long tail), as a real sanctions/PEP list of a million entries
has (OpenSanctions' default collection: most surnames and company names are rare; given names
and generic company words such as "Trading" are common). "small" is the first generator's
hard case: pools of a few thousand, so that at a million entries most unlisted names have an
exact namesake on the list (no real list looks like that). The pool is part of the file name.
"""

import itertools
import json
import random
from pathlib import Path


def _w(text: str) -> list[str]:
    return text.split()


_RU_FIRST = _w("Александр Алексей Андрей Антон Артём Борис Вадим Валерий Василий Виктор Виталий "
             "Владимир Владислав Геннадий Георгий Григорий Дмитрий Евгений Егор Иван Игорь "
             "Илья Кирилл Константин Леонид Максим Михаил Никита Николай Олег Павел Пётр "
             "Роман Руслан Сергей Станислав Степан Тимур Фёдор Юрий Яков Анна Елена Ольга "
             "Наталья Ирина Татьяна Светлана Мария Екатерина Юлия")  # fmt: skip
_RU_ROOTS = _w("Абр Бел Бог Вол Гал Гор Дер Жук Зай Кал Кар Коз Кол Кор Крас Куз Лав Леб Мед "
             "Мил Мор Нов Ор Пет Пол Поп Рог Роз Сав Сем Сид Сок Сор Степ Тар Тит Фед Фил "
             "Хар Чер Шев Щер Юд Яков Бар Вин Гус Дуб Ерм")  # fmt: skip
_RU_MIDS = _w("а и о е ан ен ин ал ел ор ар уш ыш ад ед ик ач уч ов")
_RU_ENDS = _w("ов ев ин ский енко ук ич аев ёнок ых")
_AR_FIRST = _w("محمد أحمد علي حسن حسين عمر خالد يوسف إبراهيم عبدالله سعيد مصطفى طارق كريم "
             "ناصر جمال سامي فيصل ماجد رامي وليد هشام عادل منصور")  # fmt: skip
_AR_LAT = _w("Mohammed Ahmed Ali Hassan Hussein Omar Khaled Youssef Ibrahim Abdullah Saeed "
           "Mustafa Tariq Karim Nasser Jamal Sami Faisal Majed Rami Walid Hisham Adel "
           "Mansour")  # fmt: skip
_AR_FAMILY_ROOTS = _w("زين شام حكيم نور رشيد قاسم صالح حداد خوري منصور عباس بكر جابر")
_WEST_FIRST = _w("John Michael David James Robert William Thomas Peter Paul Mark Hans Klaus "
               "Jürgen Pierre Jean François Luca Marco Giovanni José Carlos Miguel Anna Maria "
               "Sophie Claire Laura Julia Emma Elena")  # fmt: skip
_SYL = _w("ba be bi bo da de di do fa fe ka ke ki ko la le li lo ma me mi mo na ne ni no pa "
        "pe pi po ra re ri ro sa se si so ta te ti to va ve vi vo za ze zi zo mar ber den "
        "ton son man ler ger nik sch wal")  # fmt: skip
_PINYIN = _w("wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he lin gao "
           "luo zheng liang xie song tang han feng deng cao peng zeng xiao tian dong pan yuan "
           "cai jiang yu du ye cheng wei su lu ding ren shen yao")  # fmt: skip
_WORDS = _w("trading holding shipping logistics energy oil gas metal steel chemical "
          "pharma electronics systems technology engineering marine capital invest finance "
          "bank export import industrial group global international atlantic pacific "
          "nordic eastern golden silver star ocean united general precision")  # fmt: skip
_FORMS = {"ru": ("OOO", "AO", "PAO", "ООО", "АО"), "de": ("GmbH", "AG"), "gb": ("Ltd", "PLC"),
          "ae": ("FZE", "LLC", "FZCO"), "cy": ("Ltd",), "cn": ("Co., Ltd.",),
          "us": ("LLC", "Inc.")}  # fmt: skip
_OTHER_FORM = {"OOO": "LLC", "ООО": "LLC", "AO": "JSC", "АО": "JSC", "PAO": "PJSC",
               "GmbH": "Gesellschaft mit beschränkter Haftung", "AG": "Aktiengesellschaft",
               "Ltd": "Limited", "PLC": "Public Limited Company", "FZE": "Free Zone Establishment",
               "LLC": "L.L.C.", "FZCO": "FZE", "Co., Ltd.": "Company Limited",
               "Inc.": "Incorporated"}  # fmt: skip
_CYR_LAT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                    ["a", "b", "v", "g", "d", "e", "yo", "zh", "z", "i", "y", "k", "l", "m", "n",
                     "o", "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y",
                     "", "e", "yu", "ya"], strict=True))  # fmt: skip


def _translit(text: str) -> str:
    out = []
    for ch in text:
        low = ch.lower()
        lat = _CYR_LAT.get(low, ch)
        out.append(lat.capitalize() if ch != low and lat else lat)
    return "".join(out)


def _zipf(rng: random.Random, pool, s: float = 1.0):
    """An element of pool, the first ones more likely (weights 1/rank^s)."""
    weights = _ZIPF_CACHE.get((len(pool), s))
    if weights is None:
        weights = list(itertools.accumulate(1 / (i + 1) ** s for i in range(len(pool))))
        _ZIPF_CACHE[(len(pool), s)] = weights
    return rng.choices(pool, cum_weights=weights)[0]


_ZIPF_CACHE: dict = {}
_RU_SURNAMES = [r + m + e for r in _RU_ROOTS for m in ("", *_RU_MIDS) for e in _RU_ENDS]
_WEST_SURNAMES = [
    (a + b + c).capitalize() for a in _SYL for b in _SYL for c in ("", "n", "r", "s", "t")
]
_VOCAB = list(_WORDS) + [(a + b + c).lower() for a in _SYL for b in _SYL for c in _SYL[:12]]


#: which pools ``entity`` draws from: "diverse" (a real list's variety) or "small" (hard case)
POOLS = {"name": "diverse"}


def use_pools(name: str) -> None:
    if name not in ("diverse", "small"):
        raise ValueError(f"unknown pools {name!r}")
    POOLS["name"] = name


def _diverse() -> bool:
    return POOLS["name"] == "diverse"


_CYR_C = "бвгдзклмнпрстфхчшж"
_CYR_V = "аоеиу"
#: ~50,000 roots (consonant-vowel-consonant, with a second syllable for a third of them)
_RU_ROOTS_BIG = [
    (a + v + b).capitalize() for a in _CYR_C for v in _CYR_V for b in _CYR_C
] + [(a + v + b + w + c).capitalize() for a in _CYR_C for v in _CYR_V for b in _CYR_C
     for w in _CYR_V[:3] for c in "вклнрт"]  # fmt: skip
_AR_C = "بتثجحخدذرزسشصضطظعغفقكلمنهو"
#: family-name patterns over a three-letter root (C = a root letter): Qasimi, Haddad, Mansour
_AR_PATTERNS = ("CاCC", "CCيC", "CاCCي", "CCاC", "مCCوC", "CوCC", "CCCي", "CاCCان")
_WEST_FIRST_BIG = _WEST_FIRST + _w(
    "Adam Alan Albert Alex Andrew Anthony Antonio Arnaud Bernard Bruno Charles Christian "
    "Christopher Daniel Dennis Dieter Edward Emil Eric Fabio Felix Francesco Frank Fritz Georg "
    "George Gerhard Henri Henry Hugo Ian Jacques Jan Jens Joseph Karl Kevin Lars Louis Lukas "
    "Manuel Martin Matthias Max Nicolas Oliver Olivier Pablo Patrick Philippe Rafael Richard "
    "Roberto Rolf Sebastian Simon Stefan Steven Thierry Tobias Uwe Victor Walter Werner "
    "Alice Andrea Anne Barbara Carla Catherine Chiara Christine Diana Eva Francesca Hanna "
    "Isabel Jessica Karin Katarina Lucia Marie Monika Nathalie Paola Petra Sabine Sandra "
    "Sara Silvia Susanne Valentina Victoria"
)
#: syllables with varied consonants (onset, vowel, coda): the matcher's blocking key is a
#: word's consonant skeleton, and "ba be bi bo" share one; real names' skeletons vary more
_ONSETS = _w("b br d dr f fl g gr h k kr l m n p pr r s st t tr v z sh ch j sk pl gl")
_CODAS = ("", "", "n", "r", "l", "s", "m", "k", "t", "nd", "rt")
_SYL_BIG = [o + v + c for o in _ONSETS for v in "aeiou" for c in _CODAS]
#: generic words of company names: few, and on a large share of names (the common tokens)
_GENERIC = _WORDS


#: ~2,000,000 words of two syllables and more (drawn lazily: the product is not built)
def _big_word(rng, s: float = 0.5) -> str:
    return "".join(_zipf(rng, _SYL_BIG, s) for _ in range(rng.choice((2, 2, 3))))


def _ru_surname(rng) -> str:
    if not _diverse():
        return _zipf(rng, _RU_SURNAMES, 0.6)
    return _zipf(rng, _RU_ROOTS_BIG, 0.5) + rng.choice(("", *_RU_MIDS)) + rng.choice(_RU_ENDS)


def _ar_family(rng) -> str:
    if not _diverse():
        return _zipf(rng, _AR_FAMILY_ROOTS) + rng.choice(("", "ي", "ان"))
    root = iter([_zipf(rng, _AR_C, 0.5) for _ in range(3)])
    return "".join(next(root) if ch == "C" else ch for ch in rng.choice(_AR_PATTERNS))


def _west_surname(rng) -> str:
    if not _diverse():
        return _zipf(rng, _WEST_SURNAMES, 0.5)
    return (_big_word(rng, 0.6) + rng.choice(("", "s", "er", "el", "son", "mann"))).capitalize()


def _company_words(rng) -> list[str]:
    if not _diverse():
        return [_zipf(rng, _VOCAB, 0.7) for _ in range(rng.choice((1, 2, 2, 3)))]
    # a distinctive name (one or two syllable-built words) and, on two
    # names in three, generic words ("Trading", "Global Shipping")
    words = [_big_word(rng) for _ in range(rng.choice((1, 1, 2)))]
    words += [_zipf(rng, _GENERIC, 0.8) for _ in range(rng.choice((0, 1, 1, 2)))]
    return words


def _vessel_name(rng) -> str:
    if not _diverse():
        return " ".join(_zipf(rng, _VOCAB, 0.8).capitalize() for _ in range(2))
    return " ".join(w.capitalize() for w in _company_words(rng))


def _russian(rng, i):
    first = _zipf(rng, _RU_FIRST)
    father = _zipf(rng, _RU_FIRST[:40])
    surname = _ru_surname(rng)
    female = first[-1] in "ая"
    patr = father.rstrip("йь") + ("овна" if female else "ович")
    if female and surname.endswith(("ов", "ев", "ин")):
        surname += "а"
    cyr = f"{first} {patr} {surname}"
    return {"name": [_translit(cyr)], "alias": [cyr]}, "ru"


def _arab(rng, i):
    k = rng.randrange(len(_AR_FIRST))
    j = rng.randrange(len(_AR_FIRST))
    fam = _ar_family(rng)
    ar = f"{_AR_FIRST[k]} {_AR_FIRST[j]} {fam}"
    lat = f"{_AR_LAT[k]} {_AR_LAT[j]} Al-{_translit_ar(fam)}"
    return {"name": [lat], "alias": [ar]}, rng.choice(("sy", "ir", "iq", "lb", "ye", "ae"))


def _translit_ar(text):
    from normality import ascii_text

    return (ascii_text(text) or "x").capitalize()


def _western(rng, i):
    first = _zipf(rng, _WEST_FIRST_BIG if _diverse() else _WEST_FIRST)
    return {"name": [f"{first} {_west_surname(rng)}"]}, rng.choice(
        ("gb", "de", "fr", "it", "es", "us")
    )


def _chinese(rng, i):
    given = "".join(rng.choice(_PINYIN) for _ in range(rng.choice((1, 2))))
    return {"name": [f"{_zipf(rng, _PINYIN).capitalize()} {given.capitalize()}"]}, "cn"


def _company(rng, i):
    country = rng.choice(tuple(_FORMS))
    words = _company_words(rng)
    form = rng.choice(_FORMS[country])
    props = {"name": [" ".join(w.capitalize() for w in words) + " " + form]}
    if country == "ru":
        props["innCode"] = [str(7700000000 + i)]
    elif rng.random() < 0.2:
        props["leiCode"] = [f"5493{i:014d}{rng.randint(10, 99)}"]
    props["jurisdiction"] = [country]
    return "Company", props


def entity(rng: random.Random, i: int) -> dict:
    roll = rng.random()
    if roll < 0.55:
        maker = rng.choices((_russian, _arab, _western, _chinese), (4, 3, 3, 1))[0]
        props, country = maker(rng, i)
        props["nationality"] = [country]
        if rng.random() < 0.7:
            props["birthDate"] = [f"{rng.randint(1940, 2000)}-{rng.randint(1, 12):02d}-"
                                  f"{rng.randint(1, 28):02d}"]  # fmt: skip
        schema = "Person"
    elif roll < 0.95:
        schema, props = _company(rng, i)
    else:
        schema = "Vessel"
        props = {"name": [_vessel_name(rng)], "imoNumber": [f"IMO{9000000 + i}"]}
    return {"id": f"syn-{i}", "schema": schema, "properties": props}


def generate(n: int, path: Path, seed: int = 20) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps(entity(rng, i), ensure_ascii=False) + "\n")


def _typo(rng, name):
    words = name.split(" ")
    k = max(range(len(words)), key=lambda j: len(words[j]))
    w = words[k]
    spots = [p for p in range(2, len(w) - 1) if w[p].isalpha() and w[p + 1].isalpha()]
    if len(w) >= 6 and spots:
        p = rng.choice(spots)
        w = w[:p] + w[p + 1] + w[p] + w[p + 2 :]
    words[k] = w
    return " ".join(words)


def variant(rng: random.Random, ent: dict):
    """A party naming a listed entity as a declaration might, and the way it differs."""
    from app.screening.service import PartyQuery

    props, schema = ent["properties"], ent["schema"]
    name = props["name"][0]
    if schema == "Person":
        kind = rng.choice(("reordered", "script", "typo"))
        if kind == "script" and props.get("alias"):
            name = props["alias"][0]
        elif kind == "reordered":
            parts = name.split(" ")
            name = " ".join([parts[-1], parts[0]])
        else:
            name = _typo(rng, name)
        birth = (props.get("birthDate") or [None])[0]
        return PartyQuery(name, "Person", birth_date=birth), kind
    if schema == "Vessel":
        return PartyQuery(name, "Vessel", identifiers=tuple(props["imoNumber"])), "vessel"
    words = name.split(" ")
    for form, other in _OTHER_FORM.items():
        if name.endswith(" " + form):
            return PartyQuery(name[: -len(form)] + other, "Company"), "company form"
    return PartyQuery(" ".join(words), "Company"), "company"


def parties(n: int, list_size: int, seed: int = 7, listed_share: float = 0.3):
    """n (PartyQuery, expected entry id or None, kind) of which listed_share name entries."""
    from app.screening.service import PartyQuery

    list_rng = random.Random(20)
    sample = sorted(random.Random(seed).sample(range(list_size), int(n * listed_share)))
    wanted = set(sample)
    rng = random.Random(seed + 1)
    out = []
    for i in range(list_size):
        ent = entity(list_rng, i)
        if i in wanted:
            query, kind = variant(rng, ent)
            out.append((query, ent["id"], kind))
        if i >= sample[-1]:
            break
    fresh = random.Random(seed + 2)
    for j in range(n - len(out)):
        ent = entity(fresh, list_size + 10_000_000 + j)
        props = ent["properties"]
        schema = "Person" if ent["schema"] == "Person" else "Company"
        out.append((PartyQuery(props["name"][0], schema), None, "unlisted"))
    random.Random(seed + 3).shuffle(out)
    return out
