"""The input contract: the files of the linked extract, their fields, types and allowed codes."""

from __future__ import annotations

from dataclasses import dataclass, field

# Code lists follow the national datasets where they exist.
NATIONS = {"E": "England", "W": "Wales"}
SEX_CODES = {"1": "Male", "2": "Female", "9": "Indeterminate"}  # NHS Data Dictionary PERSON STATED GENDER CODE
ETHNIC_CATEGORY = {  # NHS Data Dictionary ETHNIC CATEGORY (2001 census codes)
    "A": "White British", "B": "White Irish", "C": "Any other White background",
    "D": "White and Black Caribbean", "E": "White and Black African", "F": "White and Asian",
    "G": "Any other mixed background", "H": "Indian", "J": "Pakistani", "K": "Bangladeshi",
    "L": "Any other Asian background", "M": "Caribbean", "N": "African", "P": "Any other Black background",
    "R": "Chinese", "S": "Any other ethnic group", "Z": "Not stated", "99": "Not known",
}
RECEPTOR_STATUS = {"P": "Positive", "N": "Negative", "X": "Not known / not performed"}
TNM_M = {"M0": "No distant metastasis", "M1": "Distant metastasis", "MX": "Cannot be assessed"}
STAGE_GROUP = {"1": "Stage 1", "2": "Stage 2", "3": "Stage 3", "4": "Stage 4", "X": "Not known"}
TUMOUR_SOURCES = {"COSD": "Cancer Outcomes and Services Dataset", "RCRD": "Rapid Cancer Registration Data",
                  "NCRD": "National Cancer Registration Data", "CANISC": "CaNISC / Welsh Cancer Dataset Form"}
METASTASIS_SOURCES = {"COSD": "COSD recurrence / metastatic record", "CANISC": "CaNISC / Welsh Cancer Dataset Form",
                      "HES": "Hospital Episode Statistics diagnosis", "PEDW": "Patient Episode Database for Wales diagnosis"}
RECURRENCE_TYPE = {"DISTANT": "Distant metastasis", "LOCAL": "Local recurrence", "REGIONAL": "Regional recurrence"}
CARE_EVENT_TYPES = {
    "MDT": "Discussed at a breast multidisciplinary team meeting (value empty)",
    "BIOPSY": "Biopsy or histology of a metastatic site (value: ICD-10 code of the site sampled)",
    "CNS": "Contact with a clinical nurse specialist / key worker (value empty)",
    "PS": "WHO performance status assessed (value: 0-4)",
}
CARE_SOURCES = {"COSD": "COSD", "CANISC": "CaNISC / Welsh Cancer Dataset Form", "SACT": "SACT", "HES": "HES procedures",
                "PEDW": "PEDW procedures"}
SACT_INTENT = {"P": "Palliative", "A": "Adjuvant", "N": "Neoadjuvant", "C": "Curative", "D": "Disease modification",
               "Z": "Not known"}
RT_INTENT = {"P": "Palliative", "R": "Radical", "X": "Not known"}
RT_SITES = {"BONE": "Bone", "BRAIN": "Brain", "BREAST": "Breast / chest wall", "LIVER": "Liver", "LUNG": "Lung",
            "NODES": "Lymph nodes", "OTHER": "Other"}
ADMISSION_METHOD = {  # HES / PEDW ADMISSION METHOD (HOSPITAL PROVIDER SPELL)
    "11": "Elective: waiting list", "12": "Elective: booked", "13": "Elective: planned",
    "21": "Emergency: A&E", "22": "Emergency: GP", "23": "Emergency: bed bureau", "24": "Emergency: consultant clinic",
    "25": "Emergency: mental health crisis team", "2A": "Emergency: A&E of another provider", "2B": "Emergency: transfer",
    "2C": "Emergency: baby born at home", "2D": "Emergency: other", "28": "Emergency: other means",
    "31": "Maternity: ante partum", "32": "Maternity: post partum", "81": "Transfer from other hospital",
    "82": "Other: baby born in hospital", "83": "Other: baby born outside hospital",
}
EMERGENCY_ADMISSION_METHODS = ("21", "22", "23", "24", "25", "2A", "2B", "2C", "2D", "28")
# SACT drug names (as in the SACT dataset's drug list) that the indicators look for.
SACT_DRUG_NAMES = (
    "PALBOCICLIB", "RIBOCICLIB", "ABEMACICLIB", "LETROZOLE", "ANASTROZOLE", "EXEMESTANE", "FULVESTRANT", "TAMOXIFEN",
    "TRASTUZUMAB", "PERTUZUMAB", "TRASTUZUMAB EMTANSINE", "TRASTUZUMAB DERUXTECAN", "TUCATINIB", "LAPATINIB",
    "CAPECITABINE", "DOCETAXEL", "PACLITAXEL", "EPIRUBICIN", "CYCLOPHOSPHAMIDE", "CARBOPLATIN", "ERIBULIN",
    "VINORELBINE", "GEMCITABINE", "PEMBROLIZUMAB", "SACITUZUMAB GOVITECAN", "OLAPARIB", "ALPELISIB", "EVEROLIMUS",
    "ZOLEDRONIC ACID", "DENOSUMAB", "PAMIDRONATE", "IBANDRONIC ACID", "GOSERELIN",
)

ICD10_PATTERN = r"^[A-Z][0-9]{2}(\.[0-9X])?$"
METASTATIC_SITE_PATTERN = r"^C7[7-9](\.[0-9])?$"  # secondary malignant neoplasms
ORG_CODE_PATTERN = r"^[A-Z0-9]{3,5}$"
ID_PATTERN = r"^[A-Za-z0-9_-]{1,40}$"
# Upper-case drug names joined by " + " (as SACT records them); anything else is not a regimen's drug list.
DRUG_NAMES_PATTERN = r"^[A-Z0-9][A-Z0-9 ()/.,'&-]*( \+ [A-Z0-9][A-Z0-9 ()/.,'&-]*)*$"


@dataclass(frozen=True)
class Field:
    """One column of an input file."""

    name: str
    kind: str  # "id", "string", "code", "date", "integer"
    meaning: str
    required: bool = True
    codes: dict[str, str] | None = None  # allowed values -> meaning
    pattern: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    references: str | None = None  # "organisations" or "<file>.<column>"
    unique: bool = False
    formula_safe: bool = True  # free text: never interpreted as a spreadsheet formula

    def allowed(self) -> str:
        """Human description of the allowed values, for the data dictionary."""
        if self.codes:
            return "; ".join(f"`{k}` {v}" for k, v in self.codes.items())
        parts = []
        if self.kind == "date":
            parts.append("ISO date YYYY-MM-DD, not after the data cut-off")
        if self.pattern:
            parts.append(f"matches `{self.pattern}`")
        if self.minimum is not None or self.maximum is not None:
            parts.append(f"{self.minimum} to {self.maximum}")
        if self.references == "organisations":
            parts.append("an org_code in the organisation reference table")
        elif self.references:
            parts.append(f"a value of {self.references}")
        if self.unique:
            parts.append("unique")
        return "; ".join(parts) or "any text"


@dataclass(frozen=True)
class DateOrder:
    """A rule that one date must not come before another in the same record."""

    earlier: str
    later: str


@dataclass(frozen=True)
class CountOrder:
    """A rule that one count of a record must not exceed another (a part no larger than its whole)."""

    part: str
    whole: str


@dataclass(frozen=True)
class InputFile:
    """One file of the extract."""

    name: str
    source: str
    meaning: str
    key: tuple[str, ...]
    fields: tuple[Field, ...]
    date_orders: tuple[DateOrder, ...] = field(default_factory=tuple)
    patient_level: bool = True
    count_orders: tuple[CountOrder, ...] = field(default_factory=tuple)

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


def _patient_id(unique: bool = False) -> Field:
    if unique:
        return Field("patient_id", "id", "Pseudonymised patient identifier, the same in every file", pattern=ID_PATTERN,
                     unique=True)
    return Field("patient_id", "id", "Pseudonymised patient identifier", pattern=ID_PATTERN,
                 references="patients.patient_id")


def _org(meaning: str) -> Field:
    return Field("org_code", "code", meaning, pattern=ORG_CODE_PATTERN, references="organisations")


INPUT_FILES: tuple[InputFile, ...] = (
    InputFile(
        "patients", "Cancer registry (NDRS) / CaNISC, with ONS and NHS Wales deaths, HES/PEDW comorbidity",
        "One row per person in the extract.", ("patient_id",),
        (
            _patient_id(unique=True),
            Field("nation", "code", "Nation of the registry record", codes=NATIONS),
            Field("sex", "code", "Person stated gender", codes=SEX_CODES),
            Field("date_of_birth", "date", "Date of birth (pseudonymised to the 1st of the month)"),
            Field("ethnicity", "code", "Ethnic category", codes=ETHNIC_CATEGORY, required=False),
            Field("deprivation_quintile", "integer",
                  "Quintile of the Index of Multiple Deprivation (England) or WIMD (Wales) of residence; 1 = most deprived",
                  minimum=1, maximum=5, required=False),
            Field("charlson_index", "integer", "Charlson comorbidity index from HES/PEDW in the 6 years before diagnosis",
                  minimum=0, maximum=30, required=False),
            Field("date_of_death", "date", "Date of death (ONS / NHS Wales)", required=False),
        ),
        (DateOrder("date_of_birth", "date_of_death"),),
    ),
    InputFile(
        "tumours", "Cancer registry: COSD, RCRD, NCRD (England); CaNISC (Wales)",
        "One row per primary breast tumour diagnosed in a person of the extract.", ("tumour_id",),
        (
            Field("tumour_id", "id", "Pseudonymised tumour identifier", pattern=ID_PATTERN, unique=True),
            _patient_id(),
            Field("data_source", "code", "Dataset the record came from", codes=TUMOUR_SOURCES),
            Field("diagnosis_date", "date", "Date of diagnosis of the primary breast cancer"),
            Field("icd10_code", "code", "ICD-10 code of the primary (C50.x invasive breast cancer)",
                  pattern=ICD10_PATTERN),
            Field("tnm_m", "code", "TNM M category at diagnosis", codes=TNM_M, required=False),
            Field("stage_group", "code", "Integrated stage at diagnosis", codes=STAGE_GROUP, required=False),
            Field("er_status", "code", "Oestrogen receptor status", codes=RECEPTOR_STATUS, required=False),
            Field("pr_status", "code", "Progesterone receptor status", codes=RECEPTOR_STATUS, required=False),
            Field("her2_status", "code", "HER2 status", codes=RECEPTOR_STATUS, required=False),
            _org("Trust or health board of diagnosis (ODS code)"),
        ),
    ),
    InputFile(
        "metastases", "COSD / CaNISC recurrence and metastatic records; HES / PEDW secondary diagnoses",
        "One row per record of a distant metastasis.", ("record_id",),
        (
            Field("record_id", "id", "Record identifier", pattern=ID_PATTERN, unique=True),
            _patient_id(),
            Field("data_source", "code", "Dataset the record came from", codes=METASTASIS_SOURCES),
            Field("metastasis_date", "date", "Date the metastasis was diagnosed or recorded"),
            Field("site_icd10", "code", "ICD-10 code of the metastatic site (C77-C79)", pattern=METASTATIC_SITE_PATTERN),
            Field("recurrence_type", "code", "Recurrence type recorded by the MDT (COSD / CaNISC records only)",
                  codes=RECURRENCE_TYPE, required=False),
            _org("Trust or health board that recorded the metastasis (ODS code)"),
        ),
    ),
    InputFile(
        "care_events", "COSD / Wales Cancer Dataset Form; SACT; HES / PEDW procedures",
        "One row per MDT discussion, biopsy of a metastatic site, nurse specialist contact or performance status.",
        ("event_id",),
        (
            Field("event_id", "id", "Record identifier", pattern=ID_PATTERN, unique=True),
            _patient_id(),
            Field("event_type", "code", "What happened", codes=CARE_EVENT_TYPES),
            Field("event_date", "date", "Date of the event"),
            Field("value", "string", "Biopsy: ICD-10 site sampled; PS: WHO performance status 0-4; otherwise empty",
                  required=False),
            Field("data_source", "code", "Dataset the record came from", codes=CARE_SOURCES),
            _org("Trust or health board where it happened (ODS code)"),
        ),
    ),
    InputFile(
        "sact", "Systemic Anti-Cancer Therapy dataset (England); Welsh chemotherapy records",
        "One row per SACT regimen.", ("regimen_id",),
        (
            Field("regimen_id", "id", "Regimen identifier", pattern=ID_PATTERN, unique=True),
            _patient_id(),
            Field("regimen_start_date", "date", "Start date of the regimen"),
            Field("last_administration_date", "date", "Date of the last administration of the regimen"),
            Field("drug_names", "string", "SACT drug names of the regimen, upper case, joined by ' + '",
                  pattern=DRUG_NAMES_PATTERN),
            Field("treatment_intent", "code", "Intent of the regimen", codes=SACT_INTENT, required=False),
            _org("Trust or health board that gave the treatment (ODS code)"),
        ),
        (DateOrder("regimen_start_date", "last_administration_date"),),
    ),
    InputFile(
        "radiotherapy", "Radiotherapy Dataset (RTDS); Welsh radiotherapy records",
        "One row per radiotherapy episode.", ("episode_id",),
        (
            Field("episode_id", "id", "Episode identifier", pattern=ID_PATTERN, unique=True),
            _patient_id(),
            Field("episode_start_date", "date", "Start date of the radiotherapy episode"),
            Field("treatment_site", "code", "Anatomical site treated", codes=RT_SITES),
            Field("intent", "code", "Treatment intent", codes=RT_INTENT, required=False),
            _org("Trust or health board that gave the treatment (ODS code)"),
        ),
    ),
    InputFile(
        "admissions", "Hospital Episode Statistics admitted patient care (England); PEDW (Wales)",
        "One row per hospital admission (provider spell).", ("admission_id",),
        (
            Field("admission_id", "id", "Spell identifier", pattern=ID_PATTERN, unique=True),
            _patient_id(),
            Field("admission_date", "date", "Date of admission"),
            Field("discharge_date", "date", "Date of discharge (empty if not yet discharged)", required=False),
            Field("admission_method", "code", "Admission method", codes=ADMISSION_METHOD),
            Field("primary_diagnosis", "code", "ICD-10 primary diagnosis", pattern=ICD10_PATTERN, required=False),
            _org("Trust or health board of the admission (ODS code)"),
        ),
        (DateOrder("admission_date", "discharge_date"),),
    ),
    InputFile(
        "cpes", "National Cancer Patient Experience Survey (England), trust-level aggregates",
        "One row per trust and survey year: breast cancer respondents asked whether they were given the name of a "
        "clinical nurse specialist.", ("org_code", "survey_year"),
        (
            _org("Trust (ODS code)"),
            Field("survey_year", "integer", "Year the survey was carried out", minimum=2015, maximum=2035),
            Field("respondents", "integer", "Respondents with breast cancer who answered the question", minimum=0,
                  maximum=100000),
            Field("yes_count", "integer", "Respondents who answered yes (no more than respondents)", minimum=0,
                  maximum=100000),
        ),
        patient_level=False,
        count_orders=(CountOrder("yes_count", "respondents"),),
    ),
)

FILES_BY_NAME = {f.name: f for f in INPUT_FILES}
