//! NP postpaid (後払い): the buyer form and its validation, with messages
//! the hosted page shows in Japanese.

use serde::{Deserialize, Serialize};

/// The buyer form's field names, written once: the page's request body,
/// the Worker's reading of it and every field error use them.
pub const NAME: &str = "name";
pub const KANA: &str = "kana";
pub const POSTAL_CODE: &str = "postal_code";
pub const ADDRESS: &str = "address";
pub const PHONE: &str = "phone";
pub const EMAIL: &str = "email";
/// In the form's order.
pub const FIELD_NAMES: [&str; 6] = [NAME, KANA, POSTAL_CODE, ADDRESS, PHONE, EMAIL];

/// The buyer as the hosted page sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BuyerForm {
    pub name: String,
    pub kana: String,
    pub postal_code: String,
    pub address: String,
    pub phone: String,
    pub email: String,
}

/// A buyer whose fields all passed validation, normalized (postal code and
/// phone as digits only, e-mail domain lower-cased).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buyer {
    pub name: String,
    pub kana: String,
    pub postal_code: String,
    pub address: String,
    pub phone: String,
    pub email: String,
}

impl Buyer {
    /// The fields by name, in the form's order (what the page sends).
    pub fn fields(&self) -> [(&'static str, &str); 6] {
        [(NAME, &self.name), (KANA, &self.kana), (POSTAL_CODE, &self.postal_code), (ADDRESS, &self.address), (PHONE, &self.phone), (EMAIL, &self.email)]
    }
}

/// One field's problem: the field name and a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub code: &'static str,
}

fn is_kana(c: char) -> bool {
    matches!(c, '\u{30A0}'..='\u{30FF}' | '\u{3000}' | ' ')
}

fn digits(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '-' | ' ' | '‐' | '－' | 'ー'))
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            c => c,
        })
        .collect()
}

impl BuyerForm {
    /// The form from a lookup by field name (missing fields are empty).
    pub fn from_fields(get: impl Fn(&str) -> String) -> BuyerForm {
        BuyerForm { name: get(NAME), kana: get(KANA), postal_code: get(POSTAL_CODE), address: get(ADDRESS), phone: get(PHONE), email: get(EMAIL) }
    }

    /// Validates every field and reports every problem at once.
    pub fn validate(&self) -> Result<Buyer, Vec<FieldError>> {
        let mut errors = vec![];
        let mut e = |field, code| errors.push(FieldError { field, code });
        let name = self.name.trim();
        if name.is_empty() {
            e(NAME, "required");
        } else if name.chars().count() > 40 || name.chars().any(char::is_control) {
            e(NAME, "too_long");
        }
        let kana = self.kana.trim();
        if kana.is_empty() {
            e(KANA, "required");
        } else if !kana.chars().all(is_kana) {
            e(KANA, "katakana");
        } else if kana.chars().count() > 40 {
            e(KANA, "too_long");
        }
        let postal = digits(&self.postal_code);
        if postal.is_empty() {
            e(POSTAL_CODE, "required");
        } else if postal.len() != 7 || !postal.bytes().all(|b| b.is_ascii_digit()) {
            e(POSTAL_CODE, "seven_digits");
        }
        let address = self.address.trim();
        if address.is_empty() {
            e(ADDRESS, "required");
        } else if address.chars().count() > 100 || address.chars().any(char::is_control) {
            e(ADDRESS, "too_long");
        }
        let phone = digits(&self.phone);
        if phone.is_empty() {
            e(PHONE, "required");
        } else if !(10..=11).contains(&phone.len()) || !phone.starts_with('0') || !phone.bytes().all(|b| b.is_ascii_digit()) {
            e(PHONE, "phone_digits");
        }
        let email = self.email.trim();
        let email_ok = email.len() <= 254
            && email.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.') && !email.contains(char::is_whitespace)
                    && email.is_ascii()
            });
        if email.is_empty() {
            e(EMAIL, "required");
        } else if !email_ok {
            e(EMAIL, "email");
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let (local, domain) = email.split_once('@').expect("checked above");
        Ok(Buyer {
            name: name.to_string(),
            kana: kana.to_string(),
            postal_code: postal,
            address: address.to_string(),
            phone,
            email: format!("{local}@{}", domain.to_ascii_lowercase()),
        })
    }
}

/// The Japanese message for a field error, as the page shows it.
pub fn message_ja(err: FieldError) -> &'static str {
    match (err.field, err.code) {
        (_, "required") => "入力してください。",
        (KANA, "katakana") => "全角カタカナで入力してください。",
        (POSTAL_CODE, _) => "郵便番号は7桁の数字で入力してください（例: 150-0001）。",
        (PHONE, _) => "電話番号は0から始まる10桁または11桁の数字で入力してください。",
        (EMAIL, _) => "メールアドレスの形式が正しくありません（例: taro@example.jp）。",
        (_, "too_long") => "長すぎます。短くしてください。",
        _ => "入力内容を確認してください。",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> BuyerForm {
        BuyerForm {
            name: "山田 太郎".into(),
            kana: "ヤマダ タロウ".into(),
            postal_code: "150-0001".into(),
            address: "東京都渋谷区神宮前1-2-3".into(),
            phone: "03-1234-5678".into(),
            email: "taro@Example.JP".into(),
        }
    }

    #[test]
    fn a_good_buyer_is_normalized() {
        let b = good().validate().unwrap();
        assert_eq!(b.postal_code, "1500001");
        assert_eq!(b.phone, "0312345678");
        assert_eq!(b.email, "taro@example.jp");
    }

    #[test]
    fn full_width_digits_are_accepted() {
        let mut f = good();
        f.postal_code = "１５００００１".into();
        f.phone = "０９０１２３４５６７８".into();
        let b = f.validate().unwrap();
        assert_eq!((b.postal_code.as_str(), b.phone.as_str()), ("1500001", "09012345678"));
    }

    #[test]
    fn every_problem_is_reported() {
        let f = BuyerForm { kana: "やまだ".into(), postal_code: "15000".into(), phone: "12345".into(), email: "taro".into(), ..Default::default() };
        let errs = f.validate().unwrap_err();
        let pairs: Vec<_> = errs.iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(
            pairs,
            vec![
                ("name", "required"),
                ("kana", "katakana"),
                ("postal_code", "seven_digits"),
                ("address", "required"),
                ("phone", "phone_digits"),
                ("email", "email")
            ]
        );
        assert!(errs.iter().all(|e| !message_ja(*e).is_empty()));
    }
}
