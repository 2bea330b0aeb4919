//! The GS1 Application Identifier table, as data.
//!
//! Owns every AI of the GS1 General Specifications (after the GS1 Barcode Syntax Dictionary):
//! its format as a list of components (character set, length, optional or not), the content
//! rules the terminal enforces (mod-10 check digits, dates, times, fixed characters), whether
//! the AI has a pre-defined length (no FNC1 needed after it), its data title, and the rule for
//! decimal AIs (310n, 392n ...). It must never parse scans or hold state: the parser in `gs1.rs`
//! reads this table and nothing else decides what an AI looks like.
//!
//! Content rules that need reference lists or whole-label context are deliberately left out:
//! ISO country and currency codes, IBAN, coupon structure, GMN check pairs, and the mandatory
//! AI associations (they belong to a label, not to one scan). None of them changes what the
//! floor does with a scan.

use std::fmt;

use serde::{Serialize, Serializer};

/// The characters a component may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cset {
    /// Digits.
    Numeric,
    /// GS1 AI encodable character set 82: `!"%&'()*+,-./0-9:;<=>?A-Z_a-z`.
    Cset82,
    /// GS1 AI encodable character set 39: `#-/0-9A-Z`.
    Cset39,
    /// base64url (`0-9A-Za-z-_`), for (8030) digital signatures.
    Base64Url,
    /// Exactly `0`: the leading digit of a GRAI in (8003).
    Zero,
    /// `0` or `1`: the yes/no flags (4321)-(4323).
    YesNo,
    /// `-`: the optional minus sign of the temperatures (4330)-(4333).
    Hyphen,
    /// `/`: the separator of the birth sequence (7258), e.g. `1/2`.
    Slash,
}

impl Cset {
    pub fn accepts(self, b: u8) -> bool {
        match self {
            Cset::Numeric => b.is_ascii_digit(),
            Cset::Cset82 => {
                matches!(b, b'!' | b'"' | b'%'..=b'?' | b'A'..=b'Z' | b'_' | b'a'..=b'z')
            }
            Cset::Cset39 => matches!(b, b'#' | b'-' | b'/' | b'0'..=b'9' | b'A'..=b'Z'),
            Cset::Base64Url => b.is_ascii_alphanumeric() || b == b'-' || b == b'_',
            Cset::Zero => b == b'0',
            Cset::YesNo => b == b'0' || b == b'1',
            Cset::Hyphen => b == b'-',
            Cset::Slash => b == b'/',
        }
    }

    fn letter(self) -> &'static str {
        match self {
            Cset::Numeric | Cset::Zero | Cset::YesNo => "N",
            Cset::Cset39 => "Y",
            Cset::Base64Url => "Z",
            Cset::Cset82 | Cset::Hyphen | Cset::Slash => "X",
        }
    }
}

/// A content rule on one component, beyond its character set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lint {
    None,
    /// The last digit is the GS1 mod-10 check digit of the component.
    Csum,
    /// YYMMDD; DD = 00 means the last day of the month.
    Yymmd0,
    /// YYMMDD; a real date.
    Yymmdd,
    /// YYYYMMDD; a real date.
    Yyyymmdd,
    /// Hours 00-23.
    Hh,
    /// Minutes 00-59.
    Mi,
    /// Seconds 00-59.
    Ss,
    /// HHMI: hours 00-23 and minutes 00-59.
    Hhmi,
}

/// One component of an AI's data field: `N14`, `X..20`, `[N6]` ...
#[derive(Debug, Clone, Copy)]
pub struct Comp {
    pub cset: Cset,
    pub min: u8,
    pub max: u8,
    /// Optional components come last; each is either absent or complete.
    pub optional: bool,
    pub lint: Lint,
}

const fn comp(cset: Cset, min: u8, max: u8) -> Comp {
    Comp {
        cset,
        min,
        max,
        optional: false,
        lint: Lint::None,
    }
}
/// `Nlen`: exactly `len` digits.
const fn n(len: u8) -> Comp {
    comp(Cset::Numeric, len, len)
}
/// `N..max`.
const fn nv(max: u8) -> Comp {
    comp(Cset::Numeric, 1, max)
}
/// `Xlen`.
const fn x(len: u8) -> Comp {
    comp(Cset::Cset82, len, len)
}
/// `X..max`.
const fn xv(max: u8) -> Comp {
    comp(Cset::Cset82, 1, max)
}

impl Comp {
    const fn opt(mut self) -> Comp {
        self.optional = true;
        self
    }
    const fn lint(mut self, lint: Lint) -> Comp {
        self.lint = lint;
        self
    }
    const fn only(mut self, cset: Cset) -> Comp {
        self.cset = cset;
        self
    }
}

/// One row of the table: a single AI or a range sharing format and title (`3100`-`3105`).
#[derive(Debug)]
pub struct AiDef {
    pub lo: &'static str,
    pub hi: &'static str,
    /// Pre-defined length: the next AI may follow without FNC1.
    pub predefined: bool,
    pub spec: &'static [Comp],
    pub title: &'static str,
}

impl AiDef {
    /// The format as the GS1 General Specifications write it, e.g. `N4+N14[+X..16]`.
    pub fn format(&self) -> String {
        let mut out = format!("N{}", self.lo.len());
        for c in self.spec {
            let len = if c.min == c.max {
                format!("{}{}", c.cset.letter(), c.max)
            } else {
                format!("{}..{}", c.cset.letter(), c.max)
            };
            if c.optional {
                out.push_str(&format!("[+{len}]"));
            } else {
                out.push('+');
                out.push_str(&len);
            }
        }
        out
    }

    /// The longest value the AI allows.
    pub fn max_len(&self) -> usize {
        self.spec.iter().map(|c| usize::from(c.max)).sum()
    }
}

use Lint::{Csum, Hh, Hhmi, Mi, Ss, Yymmd0, Yymmdd, Yyyymmdd};

const fn def(
    lo: &'static str,
    hi: &'static str,
    predefined: bool,
    spec: &'static [Comp],
    title: &'static str,
) -> AiDef {
    AiDef {
        lo,
        hi,
        predefined,
        spec,
        title,
    }
}

// Formats shared by many rows.
const N6: &[Comp] = &[n(6)];
const N13_CSUM: &[Comp] = &[n(13).lint(Csum)];
const N14_CSUM: &[Comp] = &[n(14).lint(Csum)];
const N18_CSUM: &[Comp] = &[n(18).lint(Csum)];
const DATE_D0: &[Comp] = &[n(6).lint(Yymmd0)];
const X2: &[Comp] = &[x(2)];
const X20: &[Comp] = &[xv(20)];
const X25: &[Comp] = &[xv(25)];
const X30: &[Comp] = &[xv(30)];
const X35: &[Comp] = &[xv(35)];
const X40: &[Comp] = &[xv(40)];
const X70: &[Comp] = &[xv(70)];
const X90: &[Comp] = &[xv(90)];
const N3: &[Comp] = &[n(3)];
const N3_LIST: &[Comp] = &[n(3), n(3).opt(), n(3).opt(), n(3).opt(), n(3).opt()];
const N15: &[Comp] = &[nv(15)];
const N3_N15: &[Comp] = &[n(3), nv(15)];
const N3_X27: &[Comp] = &[n(3), xv(27)];
const X2_X28: &[Comp] = &[x(2), xv(28)];
const YESNO: &[Comp] = &[n(1).only(Cset::YesNo)];
const TEMP: &[Comp] = &[n(6), x(1).only(Cset::Hyphen).opt()];
const DATE_TIME_D0: &[Comp] = &[n(6).lint(Yymmd0), n(4).lint(Hhmi)];
const PIECE: &[Comp] = &[n(14).lint(Csum), n(4)];

/// Every AI, sorted by `lo` (a unit test keeps it so; lookup is a binary search).
pub static TABLE: &[AiDef] = &[
    def("00", "00", true, N18_CSUM, "SSCC"),
    def("01", "01", true, N14_CSUM, "GTIN"),
    def("02", "02", true, N14_CSUM, "CONTENT"),
    def("03", "03", true, N14_CSUM, "MTO GTIN"),
    def("10", "10", false, X20, "BATCH/LOT"),
    def("11", "11", true, DATE_D0, "PROD DATE"),
    def("12", "12", true, DATE_D0, "DUE DATE"),
    def("13", "13", true, DATE_D0, "PACK DATE"),
    def("15", "15", true, DATE_D0, "BEST BEFORE or BEST BY"),
    def("16", "16", true, DATE_D0, "SELL BY"),
    def("17", "17", true, DATE_D0, "USE BY or EXPIRY"),
    def("20", "20", true, &[n(2)], "VARIANT"),
    def("21", "21", false, X20, "SERIAL"),
    def("22", "22", false, X20, "CPV"),
    def("235", "235", false, &[xv(28)], "TPX"),
    def("240", "240", false, X30, "ADDITIONAL ID"),
    def("241", "241", false, X30, "CUST. PART No."),
    def("242", "242", false, &[nv(6)], "MTO VARIANT"),
    def("243", "243", false, X20, "PCN"),
    def("250", "250", false, X30, "SECONDARY SERIAL"),
    def("251", "251", false, X30, "REF. TO SOURCE"),
    def(
        "253",
        "253",
        false,
        &[n(13).lint(Csum), xv(17).opt()],
        "GDTI",
    ),
    def("254", "254", false, X20, "GLN EXTENSION COMPONENT"),
    def(
        "255",
        "255",
        false,
        &[n(13).lint(Csum), nv(12).opt()],
        "GCN",
    ),
    def("30", "30", false, &[nv(8)], "VAR. COUNT"),
    def("3100", "3105", true, N6, "NET WEIGHT (kg)"),
    def("3110", "3115", true, N6, "LENGTH (m)"),
    def("3120", "3125", true, N6, "WIDTH (m)"),
    def("3130", "3135", true, N6, "HEIGHT (m)"),
    def("3140", "3145", true, N6, "AREA (m²)"),
    def("3150", "3155", true, N6, "NET VOLUME (l)"),
    def("3160", "3165", true, N6, "NET VOLUME (m³)"),
    def("3200", "3205", true, N6, "NET WEIGHT (lb)"),
    def("3210", "3215", true, N6, "LENGTH (in)"),
    def("3220", "3225", true, N6, "LENGTH (ft)"),
    def("3230", "3235", true, N6, "LENGTH (yd)"),
    def("3240", "3245", true, N6, "WIDTH (in)"),
    def("3250", "3255", true, N6, "WIDTH (ft)"),
    def("3260", "3265", true, N6, "WIDTH (yd)"),
    def("3270", "3275", true, N6, "HEIGHT (in)"),
    def("3280", "3285", true, N6, "HEIGHT (ft)"),
    def("3290", "3295", true, N6, "HEIGHT (yd)"),
    def("3300", "3305", true, N6, "GROSS WEIGHT (kg)"),
    def("3310", "3315", true, N6, "LENGTH (m), log"),
    def("3320", "3325", true, N6, "WIDTH (m), log"),
    def("3330", "3335", true, N6, "HEIGHT (m), log"),
    def("3340", "3345", true, N6, "AREA (m²), log"),
    def("3350", "3355", true, N6, "VOLUME (l), log"),
    def("3360", "3365", true, N6, "VOLUME (m³), log"),
    def("3370", "3375", true, N6, "KG PER m²"),
    def("3400", "3405", true, N6, "GROSS WEIGHT (lb)"),
    def("3410", "3415", true, N6, "LENGTH (in), log"),
    def("3420", "3425", true, N6, "LENGTH (ft), log"),
    def("3430", "3435", true, N6, "LENGTH (yd), log"),
    def("3440", "3445", true, N6, "WIDTH (in), log"),
    def("3450", "3455", true, N6, "WIDTH (ft), log"),
    def("3460", "3465", true, N6, "WIDTH (yd), log"),
    def("3470", "3475", true, N6, "HEIGHT (in), log"),
    def("3480", "3485", true, N6, "HEIGHT (ft), log"),
    def("3490", "3495", true, N6, "HEIGHT (yd), log"),
    def("3500", "3505", true, N6, "AREA (in²)"),
    def("3510", "3515", true, N6, "AREA (ft²)"),
    def("3520", "3525", true, N6, "AREA (yd²)"),
    def("3530", "3535", true, N6, "AREA (in²), log"),
    def("3540", "3545", true, N6, "AREA (ft²), log"),
    def("3550", "3555", true, N6, "AREA (yd²), log"),
    def("3560", "3565", true, N6, "NET WEIGHT (t oz)"),
    def("3570", "3575", true, N6, "NET VOLUME (oz)"),
    def("3600", "3605", true, N6, "NET VOLUME (qt)"),
    def("3610", "3615", true, N6, "NET VOLUME (gal.)"),
    def("3620", "3625", true, N6, "VOLUME (qt), log"),
    def("3630", "3635", true, N6, "VOLUME (gal.), log"),
    def("3640", "3645", true, N6, "VOLUME (in³)"),
    def("3650", "3655", true, N6, "VOLUME (ft³)"),
    def("3660", "3665", true, N6, "VOLUME (yd³)"),
    def("3670", "3675", true, N6, "VOLUME (in³), log"),
    def("3680", "3685", true, N6, "VOLUME (ft³), log"),
    def("3690", "3695", true, N6, "VOLUME (yd³), log"),
    def("37", "37", false, &[nv(8)], "COUNT"),
    def("3900", "3909", false, N15, "AMOUNT"),
    def("3910", "3919", false, N3_N15, "AMOUNT"),
    def("3920", "3929", false, N15, "PRICE"),
    def("3930", "3939", false, N3_N15, "PRICE"),
    def("3940", "3943", false, &[n(4)], "PRCNT OFF"),
    def("3950", "3955", false, N6, "PRICE/UoM"),
    def("400", "400", false, X30, "ORDER NUMBER"),
    def("401", "401", false, X30, "GINC"),
    def("402", "402", false, &[n(17).lint(Csum)], "GSIN"),
    def("403", "403", false, X30, "ROUTE"),
    def("410", "410", true, N13_CSUM, "SHIP TO LOC"),
    def("411", "411", true, N13_CSUM, "BILL TO"),
    def("412", "412", true, N13_CSUM, "PURCHASE FROM"),
    def("413", "413", true, N13_CSUM, "SHIP FOR LOC"),
    def("414", "414", true, N13_CSUM, "LOC No."),
    def("415", "415", true, N13_CSUM, "PAY TO"),
    def("416", "416", true, N13_CSUM, "PROD/SERV LOC"),
    def("417", "417", true, N13_CSUM, "PARTY"),
    def("420", "420", false, X20, "SHIP TO POST"),
    def("421", "421", false, &[n(3), xv(9)], "SHIP TO POST"),
    def("422", "422", false, N3, "ORIGIN"),
    def("423", "423", false, N3_LIST, "COUNTRY - INITIAL PROCESS"),
    def("424", "424", false, N3, "COUNTRY - PROCESS"),
    def("425", "425", false, N3_LIST, "COUNTRY - DISASSEMBLY"),
    def("426", "426", false, N3, "COUNTRY - FULL PROCESS"),
    def("427", "427", false, &[xv(3)], "ORIGIN SUBDIVISION"),
    def("4300", "4300", false, X35, "SHIP TO COMP"),
    def("4301", "4301", false, X35, "SHIP TO NAME"),
    def("4302", "4302", false, X70, "SHIP TO ADD1"),
    def("4303", "4303", false, X70, "SHIP TO ADD2"),
    def("4304", "4304", false, X70, "SHIP TO SUB"),
    def("4305", "4305", false, X70, "SHIP TO LOC"),
    def("4306", "4306", false, X70, "SHIP TO REG"),
    def("4307", "4307", false, X2, "SHIP TO COUNTRY"),
    def("4308", "4308", false, X30, "SHIP TO PHONE"),
    def("4309", "4309", false, &[n(10), n(10)], "SHIP TO GEO"),
    def("4310", "4310", false, X35, "RTN TO COMP"),
    def("4311", "4311", false, X35, "RTN TO NAME"),
    def("4312", "4312", false, X70, "RTN TO ADD1"),
    def("4313", "4313", false, X70, "RTN TO ADD2"),
    def("4314", "4314", false, X70, "RTN TO SUB"),
    def("4315", "4315", false, X70, "RTN TO LOC"),
    def("4316", "4316", false, X70, "RTN TO REG"),
    def("4317", "4317", false, X2, "RTN TO COUNTRY"),
    def("4318", "4318", false, X20, "RTN TO POST"),
    def("4319", "4319", false, X30, "RTN TO PHONE"),
    def("4320", "4320", false, X35, "SRV DESCRIPTION"),
    def("4321", "4321", false, YESNO, "DANGEROUS GOODS"),
    def("4322", "4322", false, YESNO, "AUTH TO LEAVE"),
    def("4323", "4323", false, YESNO, "SIG REQUIRED"),
    def("4324", "4324", false, DATE_TIME_D0, "NOT BEF DEL DT"),
    def("4325", "4325", false, DATE_TIME_D0, "NOT AFT DEL DT"),
    def("4326", "4326", false, &[n(6).lint(Yymmdd)], "REL DATE"),
    def("4330", "4330", false, TEMP, "MAX TEMP F."),
    def("4331", "4331", false, TEMP, "MAX TEMP C."),
    def("4332", "4332", false, TEMP, "MIN TEMP F."),
    def("4333", "4333", false, TEMP, "MIN TEMP C."),
    def("7001", "7001", false, &[n(13)], "NSN"),
    def("7002", "7002", false, X30, "MEAT CUT"),
    def(
        "7003",
        "7003",
        false,
        &[n(6).lint(Yymmdd), n(4).lint(Hhmi)],
        "EXPIRY TIME",
    ),
    def("7004", "7004", false, &[nv(4)], "ACTIVE POTENCY"),
    def("7005", "7005", false, &[xv(12)], "CATCH AREA"),
    def(
        "7006",
        "7006",
        false,
        &[n(6).lint(Yymmdd)],
        "FIRST FREEZE DATE",
    ),
    def(
        "7007",
        "7007",
        false,
        &[n(6).lint(Yymmdd), n(6).lint(Yymmdd).opt()],
        "HARVEST DATE",
    ),
    def("7008", "7008", false, &[xv(3)], "AQUATIC SPECIES"),
    def("7009", "7009", false, &[xv(10)], "FISHING GEAR TYPE"),
    def("7010", "7010", false, &[xv(2)], "PROD METHOD"),
    def(
        "7011",
        "7011",
        false,
        &[n(6).lint(Yymmdd), n(4).lint(Hhmi).opt()],
        "TEST BY DATE",
    ),
    def("7020", "7020", false, X20, "REFURB LOT"),
    def("7021", "7021", false, X20, "FUNC STAT"),
    def("7022", "7022", false, X20, "REV STAT"),
    def("7023", "7023", false, X30, "GIAI - ASSEMBLY"),
    def("7030", "7030", false, N3_X27, "PROCESSOR # 0"),
    def("7031", "7031", false, N3_X27, "PROCESSOR # 1"),
    def("7032", "7032", false, N3_X27, "PROCESSOR # 2"),
    def("7033", "7033", false, N3_X27, "PROCESSOR # 3"),
    def("7034", "7034", false, N3_X27, "PROCESSOR # 4"),
    def("7035", "7035", false, N3_X27, "PROCESSOR # 5"),
    def("7036", "7036", false, N3_X27, "PROCESSOR # 6"),
    def("7037", "7037", false, N3_X27, "PROCESSOR # 7"),
    def("7038", "7038", false, N3_X27, "PROCESSOR # 8"),
    def("7039", "7039", false, N3_X27, "PROCESSOR # 9"),
    def("7040", "7040", false, &[n(1), x(1), x(1), x(1)], "UIC+EXT"),
    def("7041", "7041", false, &[xv(4)], "UFRGT UNIT TYPE"),
    def("710", "710", false, X20, "NHRN PZN"),
    def("711", "711", false, X20, "NHRN CIP"),
    def("712", "712", false, X20, "NHRN CN"),
    def("713", "713", false, X20, "NHRN DRN"),
    def("714", "714", false, X20, "NHRN AIM"),
    def("715", "715", false, X20, "NHRN NDC"),
    def("716", "716", false, X20, "NHRN AIC"),
    def("717", "717", false, X20, "NHRN SRN"),
    def("7230", "7230", false, X2_X28, "CERT # 1"),
    def("7231", "7231", false, X2_X28, "CERT # 2"),
    def("7232", "7232", false, X2_X28, "CERT # 3"),
    def("7233", "7233", false, X2_X28, "CERT # 4"),
    def("7234", "7234", false, X2_X28, "CERT # 5"),
    def("7235", "7235", false, X2_X28, "CERT # 6"),
    def("7236", "7236", false, X2_X28, "CERT # 7"),
    def("7237", "7237", false, X2_X28, "CERT # 8"),
    def("7238", "7238", false, X2_X28, "CERT # 9"),
    def("7239", "7239", false, X2_X28, "CERT # 10"),
    def("7240", "7240", false, X20, "PROTOCOL"),
    def("7241", "7241", false, &[n(2)], "AIDC MEDIA TYPE"),
    def("7242", "7242", false, X25, "VCN"),
    def("7250", "7250", false, &[n(8).lint(Yyyymmdd)], "DOB"),
    def(
        "7251",
        "7251",
        false,
        &[n(8).lint(Yyyymmdd), n(4).lint(Hhmi)],
        "DOB TIME",
    ),
    def("7252", "7252", false, &[n(1)], "BIO SEX"),
    def("7253", "7253", false, X40, "FAMILY NAME"),
    def("7254", "7254", false, X40, "GIVEN NAME"),
    def("7255", "7255", false, &[xv(10)], "SUFFIX"),
    def("7256", "7256", false, X90, "FULL NAME"),
    def("7257", "7257", false, X70, "PERSON ADDR"),
    // X3 in the dictionary, checked there as "digit, slash, digit": we state it as the format.
    def(
        "7258",
        "7258",
        false,
        &[n(1), x(1).only(Cset::Slash), n(1)],
        "BIRTH SEQUENCE",
    ),
    def("7259", "7259", false, X40, "BABY"),
    def(
        "8001",
        "8001",
        false,
        &[n(4), n(5), n(3), n(1), n(1)],
        "DIMENSIONS",
    ),
    def("8002", "8002", false, X20, "CMT No."),
    def(
        "8003",
        "8003",
        false,
        &[n(1).only(Cset::Zero), n(13).lint(Csum), xv(16).opt()],
        "GRAI",
    ),
    def("8004", "8004", false, X30, "GIAI"),
    def("8005", "8005", false, N6, "PRICE PER UNIT"),
    def("8006", "8006", false, PIECE, "ITIP"),
    def("8007", "8007", false, &[xv(34)], "IBAN"),
    def(
        "8008",
        "8008",
        false,
        &[
            n(6).lint(Yymmdd),
            n(2).lint(Hh),
            n(2).lint(Mi).opt(),
            n(2).lint(Ss).opt(),
        ],
        "PROD TIME",
    ),
    def("8009", "8009", false, &[xv(50)], "OPTSEN"),
    def("8010", "8010", false, &[comp(Cset::Cset39, 1, 30)], "CPID"),
    def("8011", "8011", false, &[nv(12)], "CPID SERIAL"),
    def("8012", "8012", false, X20, "VERSION"),
    def("8013", "8013", false, X25, "GMN"),
    def("8014", "8014", false, X25, "MUDI"),
    def("8017", "8017", false, N18_CSUM, "GSRN - PROVIDER"),
    def("8018", "8018", false, N18_CSUM, "GSRN - RECIPIENT"),
    def("8019", "8019", false, &[nv(10)], "SRIN"),
    def("8020", "8020", false, X25, "REF No."),
    def("8026", "8026", false, PIECE, "ITIP CONTENT"),
    def(
        "8030",
        "8030",
        false,
        &[comp(Cset::Base64Url, 1, 90)],
        "DIGSIG",
    ),
    def("8110", "8110", false, X70, "COUPON"),
    def("8111", "8111", false, &[n(4)], "POINTS"),
    def("8112", "8112", false, X70, "PAPERLESS COUPON"),
    def("8200", "8200", false, X70, "PRODUCT URL"),
    def("90", "90", false, X30, "INTERNAL"),
    def("91", "99", false, X90, "INTERNAL"),
];

/// The GS1 table of pre-defined lengths (GS1 General Specifications, figure 7.8.5-2): element
/// strings whose AI starts with these two digits have this total length (AI + value) and need
/// no FNC1 after them. It is fixed by the standard, independent of which AIs exist, so that old
/// readers keep working when new AIs are added.
pub fn predefined_length(first_two: &[u8]) -> Option<usize> {
    Some(match first_two {
        b"00" => 20,
        b"01" | b"02" | b"03" | b"41" => 16,
        b"04" => 18,
        b"11" | b"12" | b"13" | b"14" | b"15" | b"16" | b"17" | b"18" | b"19" => 8,
        b"20" => 4,
        b"31" | b"32" | b"33" | b"34" | b"35" | b"36" => 10,
        _ => return None,
    })
}

/// An Application Identifier: two to four digits, stored inline (no allocation per element).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ai {
    digits: [u8; 4],
    len: u8,
}

impl Ai {
    fn new(digits: &[u8]) -> Ai {
        let mut d = [0u8; 4];
        d[..digits.len()].copy_from_slice(digits);
        Ai {
            digits: d,
            len: digits.len() as u8,
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ever built from ASCII digits.
        std::str::from_utf8(&self.digits[..usize::from(self.len)]).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Display for Ai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Ai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({})", self.as_str())
    }
}

impl PartialEq<str> for Ai {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Ai {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for Ai {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The AI at the start of `data`, if any. AIs are prefix-free, so at most one row can match;
/// it is the last row whose `lo` sorts at or before `data`.
pub fn lookup_prefix(data: &[u8]) -> Option<(Ai, &'static AiDef)> {
    let idx = TABLE.partition_point(|d| d.lo.as_bytes() <= data);
    let def = TABLE.get(idx.checked_sub(1)?)?;
    let len = def.lo.len();
    let head = data.get(..len)?;
    let in_range = head.iter().all(u8::is_ascii_digit)
        && head >= def.lo.as_bytes()
        && head <= def.hi.as_bytes();
    in_range.then(|| (Ai::new(head), def))
}

/// The AI that is exactly `ai` (as written in brackets), if it exists.
pub fn lookup_exact(ai: &[u8]) -> Option<(Ai, &'static AiDef)> {
    lookup_prefix(ai).filter(|(found, _)| found.len() == ai.len())
}

/// Implied decimal places of a measure or amount AI, and whether its value starts with a
/// three-digit ISO 4217 currency code. 31nn-36nn: trade measures; 390n/392n: amounts; 391n/393n:
/// amounts with currency; 394n: percentage off; 395n: price per unit of measure. In every case
/// the last digit of the AI is the number of decimal places.
pub fn decimal_places(ai: &Ai) -> Option<(u8, bool)> {
    let d = ai.as_str().as_bytes();
    if d.len() != 4 {
        return None;
    }
    let places = d[3] - b'0';
    match (d[0], d[1], d[2]) {
        (b'3', b'1'..=b'6', _) => Some((places, false)),
        (b'3', b'9', b'0' | b'2' | b'4' | b'5') => Some((places, false)),
        (b'3', b'9', b'1' | b'3') => Some((places, true)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_prefix_free() {
        for pair in TABLE.windows(2) {
            assert!(pair[0].hi < pair[1].lo, "{} / {}", pair[0].hi, pair[1].lo);
        }
        for a in TABLE {
            assert_eq!(a.lo.len(), a.hi.len());
            for b in TABLE {
                if std::ptr::eq(a, b) || a.lo.len() >= b.lo.len() {
                    continue;
                }
                let head = &b.lo[..a.lo.len()];
                assert!(
                    !(head >= a.lo && head <= a.hi),
                    "{} is a prefix of {}",
                    a.lo,
                    b.lo
                );
            }
        }
    }

    #[test]
    fn predefined_flags_agree_with_the_length_table() {
        for d in TABLE {
            let total = predefined_length(&d.lo.as_bytes()[..2]);
            assert_eq!(d.predefined, total.is_some(), "{}", d.lo);
            if let Some(total) = total {
                assert_eq!(d.lo.len() + d.max_len(), total, "{}", d.lo);
                assert!(d.spec.iter().all(|c| c.min == c.max && !c.optional));
            }
        }
    }

    fn check(data: &str, expect: Option<&str>) {
        let got = lookup_prefix(data.as_bytes()).map(|(ai, _)| ai.to_string());
        assert_eq!(got.as_deref(), expect, "{data}");
    }

    #[test]
    fn lookup_cases() {
        check("0112345", Some("01"));
        check("3103012345", Some("3103"));
        check("3106012345", None);
        check("310", None);
        check("891234", None);
        check("99ABC", Some("99"));
        check("91", Some("91"));
        check("9", None);
        check("2412", Some("241"));
        check("4012", Some("401"));
        check("7239", Some("7239"));
        check("8030", Some("8030"));
        check("717ABC", Some("717"));
        check("9A", None);
        check("", None);
        check("Ä", None);
        assert!(lookup_exact(b"3103").is_some());
        assert!(lookup_exact(b"310").is_none());
        assert!(lookup_exact(b"011").is_none());
    }

    #[test]
    fn formats_read_like_the_standard() {
        let f = |ai: &str| lookup_exact(ai.as_bytes()).unwrap().1.format();
        assert_eq!(f("01"), "N2+N14");
        assert_eq!(f("10"), "N2+X..20");
        assert_eq!(f("8003"), "N4+N1+N13[+X..16]");
        assert_eq!(f("7007"), "N4+N6[+N6]");
        assert_eq!(f("3912"), "N4+N3+N..15");
    }

    #[test]
    fn decimal_rules() {
        let p = |ai: &str| decimal_places(&lookup_exact(ai.as_bytes()).unwrap().0);
        assert_eq!(p("3103"), Some((3, false)));
        assert_eq!(p("3300"), Some((0, false)));
        assert_eq!(p("3922"), Some((2, false)));
        assert_eq!(p("3932"), Some((2, true)));
        assert_eq!(p("3943"), Some((3, false)));
        assert_eq!(p("3955"), Some((5, false)));
        assert_eq!(p("8005"), None);
        assert_eq!(p("37"), None);
    }
}
