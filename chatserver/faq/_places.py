"""Names of countries, regions and big cities, folded onto one word so any place reads alike.

"do you ship to norway" and "do you ship to switzerland" are the same question; without this the
place name is an unknown word that makes the matcher less sure, and only places written in the FAQ
would match well.
"""

from __future__ import annotations

import re

#: The word every place name becomes (it is also in the FAQ's own questions, e.g. "my country").
PLACE = "country"

#: Multi-word names are written with "_" for their spaces.
_NAMES = """
afghanistan albania algeria andorra angola argentina armenia australia austria azerbaijan
bahamas bahrain bangladesh barbados belarus belgium belize benin bhutan bolivia bosnia botswana
brazil brunei bulgaria cambodia cameroon canada chile china colombia congo croatia cuba cyprus
czechia czech_republic denmark dominican_republic ecuador egypt el_salvador estonia ethiopia
fiji finland france georgia germany ghana greece greenland guatemala honduras hong_kong hungary
iceland india indonesia iran iraq ireland israel italy jamaica japan jordan kazakhstan kenya
korea south_korea kosovo kuwait latvia lebanon liechtenstein lithuania luxembourg macau
madagascar malaysia maldives malta mauritius mexico moldova monaco mongolia montenegro morocco
mozambique namibia nepal netherlands holland new_zealand nicaragua nigeria north_macedonia
norway oman pakistan panama paraguay peru philippines poland portugal puerto_rico qatar romania
russia saudi_arabia scotland wales england northern_ireland serbia singapore slovakia slovenia
south_africa spain sri_lanka sweden switzerland taiwan tanzania thailand trinidad tunisia turkey
uganda ukraine uae united_arab_emirates united_kingdom great_britain britain united_states usa
america uruguay uzbekistan venezuela vietnam zambia zimbabwe europe eu asia africa scandinavia
alaska hawaii california texas florida new_york ontario quebec british_columbia alberta
queensland victoria tasmania new_south_wales london manchester birmingham glasgow edinburgh
dublin paris lyon marseille berlin munich hamburg cologne frankfurt madrid barcelona valencia
lisbon porto rome milan naples vienna zurich geneva amsterdam rotterdam brussels antwerp
copenhagen stockholm oslo helsinki warsaw krakow prague budapest athens bucharest sofia zagreb
toronto vancouver montreal calgary ottawa chicago los_angeles san_francisco seattle boston miami
houston dallas sydney melbourne brisbane perth adelaide canberra auckland wellington
christchurch tokyo dubai uk zealand
"""
_PATTERN = re.compile(
    r"\b(?:"
    + "|".join(
        re.escape(name.replace("_", " ")) for name in sorted(_NAMES.split(), key=len, reverse=True)
    )
    + r")\b"
)


def fold_places(normalised: str) -> str:
    """Replace every known place name in a normalised text by `PLACE`."""
    return _PATTERN.sub(PLACE, normalised)
