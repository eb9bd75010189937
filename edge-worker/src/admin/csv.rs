//! CSV for the exports (payments, audit): RFC 4180 fields (quoted when
//! needed, CRLF line ends), text cells that a spreadsheet would read as a
//! formula (`= + - @`, tab, CR at the start) prefixed with `'`, and the two
//! encodings: UTF-8 with a byte-order mark (the default: Excel then reads
//! it as UTF-8), or Shift_JIS (Windows-31J, what Excel in Japan reads by
//! default) through a table of its two-byte characters (`sjis.bin`, made
//! by `sjis_table.py`). A character Shift_JIS lacks is written `?`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8Bom,
    ShiftJis,
}

impl Encoding {
    /// `?encoding=`: absent or `utf-8` → UTF-8 with BOM, `shift_jis` → Shift_JIS.
    pub fn from_query(v: Option<&str>) -> Option<Encoding> {
        match v.map(|s| s.to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("utf-8") | Some("utf8") => Some(Encoding::Utf8Bom),
            Some("shift_jis") | Some("sjis") | Some("cp932") | Some("windows-31j") => Some(Encoding::ShiftJis),
            _ => None,
        }
    }

    pub fn charset(self) -> &'static str {
        match self {
            Encoding::Utf8Bom => "utf-8",
            Encoding::ShiftJis => "shift_jis",
        }
    }

    /// What starts the file (the BOM for UTF-8).
    pub fn preamble(self) -> &'static [u8] {
        match self {
            Encoding::Utf8Bom => b"\xEF\xBB\xBF",
            Encoding::ShiftJis => b"",
        }
    }

    pub fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Encoding::Utf8Bom => text.as_bytes().to_vec(),
            Encoding::ShiftJis => shift_jis(text),
        }
    }
}

/// A cell: text, or a number written as is.
pub enum Cell<'a> {
    Text(&'a str),
    Int(i64),
    Empty,
}

fn text_field(s: &str, out: &mut String) {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = formula || s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ');
    if quote {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    for c in s.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quote {
        out.push('"');
    }
}

/// One CSV line, with its CRLF.
pub fn row(cells: &[Cell<'_>]) -> String {
    let mut out = String::new();
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match c {
            Cell::Text(s) => text_field(s, &mut out),
            Cell::Int(n) => out.push_str(&n.to_string()),
            Cell::Empty => {}
        }
    }
    out.push_str("\r\n");
    out
}

static TABLE: &[u8] = include_bytes!("sjis.bin");

fn lookup(cp: u32) -> Option<u16> {
    let n = TABLE.len() / 4;
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let k = u16::from_be_bytes([TABLE[mid * 4], TABLE[mid * 4 + 1]]) as u32;
        match k.cmp(&cp) {
            std::cmp::Ordering::Equal => return Some(u16::from_be_bytes([TABLE[mid * 4 + 2], TABLE[mid * 4 + 3]])),
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
        }
    }
    None
}

/// Windows-31J bytes of `text`; `?` for what it cannot write.
pub fn shift_jis(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let cp = c as u32;
        if cp < 0x80 {
            out.push(cp as u8);
            continue;
        }
        match lookup(cp) {
            Some(v) if v < 0x100 => out.push(v as u8),
            Some(v) => out.extend_from_slice(&v.to_be_bytes()),
            None => out.push(b'?'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(row(&[Cell::Text("a"), Cell::Int(1100), Cell::Empty, Cell::Text("x,y")]), "a,1100,,\"x,y\"\r\n");
        assert_eq!(row(&[Cell::Text("say \"hi\"\n")]), "\"say \"\"hi\"\"\n\"\r\n");
        assert_eq!(row(&[Cell::Text("=HYPERLINK(1)"), Cell::Text("@x"), Cell::Text("-1")]), "\"'=HYPERLINK(1)\",\"'@x\",\"'-1\"\r\n");
        assert_eq!(row(&[Cell::Int(-5)]), "-5\r\n", "numbers are numbers");
    }

    #[test]
    fn shift_jis_of_what_we_write() {
        // 緑茶 200g: 97CE 9283; カタカナ, ｶﾅ (half width, one byte each), ￥, ①, 〜.
        assert_eq!(shift_jis("緑茶 200g"), vec![0x97, 0xce, 0x92, 0x83, b' ', b'2', b'0', b'0', b'g']);
        assert_eq!(shift_jis("カ"), vec![0x83, 0x4a]);
        assert_eq!(shift_jis("ｶﾅ"), vec![0xb6, 0xc5]);
        assert_eq!(shift_jis("①"), vec![0x87, 0x40]);
        assert_eq!(shift_jis("～"), vec![0x81, 0x60]);
        assert_eq!(shift_jis("決済済み"), vec![0x8c, 0x88, 0x8d, 0xcf, 0x8d, 0xcf, 0x82, 0xdd]);
        assert_eq!(shift_jis("😀é"), b"??");
    }

    #[test]
    fn encodings_from_the_query() {
        assert_eq!(Encoding::from_query(None), Some(Encoding::Utf8Bom));
        assert_eq!(Encoding::from_query(Some("shift_jis")), Some(Encoding::ShiftJis));
        assert_eq!(Encoding::from_query(Some("latin1")), None);
        assert_eq!(Encoding::Utf8Bom.preamble(), b"\xEF\xBB\xBF");
    }
}
