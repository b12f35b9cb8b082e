"""Regions as data: ISO 3166 codes, and the country each time zone lies in (where known).

Plain tables, taken once from the IANA tz database (iso3166.tab, zone.tab and its backward
links); nothing here reads a file at run time. To extend: add a zone to ZONE_REGIONS.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ISO 3166-1 alpha-2: every country code.
COUNTRIES = _codes(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
    GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
    KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
    MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
    TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
    ZW
    """
)

# ISO 3166-2 subdivisions, for the countries whose calling hours differ by subdivision.
SUBDIVISIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "US": _codes(
            """
            AK AL AR AS AZ CA CO CT DC DE FL GA GU HI IA ID IL IN KS KY LA MA MD ME MI MN MO MP
            MS MT NC ND NE NH NJ NM NV NY OH OK OR PA PR RI SC SD TN TX UM UT VA VI VT WA WI WV
            WY
            """
        ),
        "CA": _codes("AB BC MB NB NL NS NT NU ON PE QC SK YT"),
    }
)

_US_ZONES = """
    America/Adak America/Anchorage America/Atka America/Boise America/Chicago America/Denver
    America/Detroit America/Fort_Wayne America/Indiana/Indianapolis America/Indiana/Knox
    America/Indiana/Marengo America/Indiana/Petersburg America/Indiana/Tell_City
    America/Indiana/Vevay America/Indiana/Vincennes America/Indiana/Winamac America/Indianapolis
    America/Juneau America/Kentucky/Louisville America/Kentucky/Monticello America/Knox_IN
    America/Los_Angeles America/Louisville America/Menominee America/Metlakatla America/New_York
    America/Nome America/North_Dakota/Beulah America/North_Dakota/Center
    America/North_Dakota/New_Salem America/Phoenix America/Shiprock America/Sitka
    America/Yakutat Navajo Pacific/Honolulu US/Alaska US/Aleutian US/Arizona US/Central US/East-
    Indiana US/Eastern US/Hawaii US/Indiana-Starke US/Michigan US/Mountain US/Pacific
"""
_CA_ZONES = """
    America/Atikokan America/Blanc-Sablon America/Cambridge_Bay America/Creston America/Dawson
    America/Dawson_Creek America/Edmonton America/Fort_Nelson America/Glace_Bay
    America/Goose_Bay America/Halifax America/Inuvik America/Iqaluit America/Moncton
    America/Montreal America/Nipigon America/Pangnirtung America/Rainy_River
    America/Rankin_Inlet America/Regina America/Resolute America/St_Johns America/Swift_Current
    America/Thunder_Bay America/Toronto America/Vancouver America/Whitehorse America/Winnipeg
    America/Yellowknife Canada/Atlantic Canada/Central Canada/Eastern Canada/Mountain
    Canada/Newfoundland Canada/Pacific Canada/Saskatchewan Canada/Yukon
"""

# The country each time zone lies in: every US and Canadian zone, aliases included.
ZONE_REGIONS: Mapping[str, str] = MappingProxyType(
    {
        **dict.fromkeys(_codes(_US_ZONES), "US"),
        **dict.fromkeys(_codes(_CA_ZONES), "CA"),
    }
)


def region_of_zone(zone_name: str | None) -> str | None:
    """The country a time zone lies in (America/Toronto: CA), or None where the table has none."""
    return ZONE_REGIONS.get(zone_name) if zone_name else None
