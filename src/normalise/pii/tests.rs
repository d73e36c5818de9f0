//! Both directions: text that must be masked, and look-alikes that must be left alone.

use super::*;

fn masked(text: &str) -> String {
    mask_pii(text).0
}

#[test]
fn emails_are_masked() {
    assert_eq!(
        masked("write to a.b+tag@example.co.uk."),
        "write to [email]."
    );
    assert_eq!(masked("邮箱12345678@qq.com谢谢"), "邮箱[email]谢谢");
    assert_eq!(masked("x@y.z and @handle"), "x@y.z and @handle");
}

#[test]
fn mainland_china_phones_are_masked() {
    for phone in [
        "13812345678",
        "+86 138 1234 5678",
        "+8613812345678",
        "0086-138-1234-5678",
        "(+86)13812345678",
        "138-1234-5678",
        "010-62345678",
        "(0755)8888 8888",
        "0755-88888888",
        "021 6123 4567",
        "+86 21 6123 4567",
    ] {
        assert_eq!(
            masked(&format!("电话{phone}谢谢")),
            "电话[phone]谢谢",
            "{phone}"
        );
        assert_eq!(
            masked(&format!("call {phone}.")),
            "call [phone].",
            "{phone}"
        );
    }
}

#[test]
fn hong_kong_and_taiwan_phones_are_masked() {
    for phone in [
        "+852 9123 4567",
        "+852-2345-6789",
        "(852) 6123 4567",
        "0912-345-678",
        "0912345678",
        "0912 345 678",
        "+886 912 345 678",
        "(02)2345-6789",
        "02-2345-6789",
        "+886 2 2345 6789",
        "04-2345-6789",
    ] {
        assert_eq!(
            masked(&format!("我的電話是 {phone} 謝謝")),
            "我的電話是 [phone] 謝謝",
            "{phone}"
        );
    }
    assert_eq!(masked("請打電話 91234567"), "請打電話 [phone]");
    assert_eq!(masked("WhatsApp me: 9123 4567"), "WhatsApp me: [phone]");
}

#[test]
fn north_american_phones_are_masked() {
    for phone in [
        "(555) 123-4567",
        "(555)123-4567",
        "555-123-4567",
        "555.123.4567",
        "+1 555 123 4567",
        "+1-555-123-4567",
        "1-800-555-1234",
    ] {
        assert_eq!(
            masked(&format!("Call me at {phone} today")),
            "Call me at [phone] today",
            "{phone}"
        );
    }
    assert_eq!(masked("my phone is 5551234567"), "my phone is [phone]");
}

#[test]
fn luhn_valid_cards_are_masked() {
    for card in [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "5555555555554444",
        "2223 0031 2200 3222",
        "3782 822463 10005",
        "378282246310005",
        "6011111111111117",
        "3530111333300000",
        "6200000000000005",
        "30569309025904",
    ] {
        assert_eq!(
            masked(&format!("card {card} was charged")),
            "card [card] was charged",
            "{card}"
        );
    }
}

#[test]
fn chinese_resident_ids_are_masked() {
    assert_eq!(masked("身份证11010519491231002X。"), "身份证[id]。");
    assert_eq!(masked("id 11010519491231002x"), "id [id]");
    assert_eq!(masked("旧身份证 110105491231002 号"), "旧身份证 [id] 号");
    // A valid check digit wins even after an identifier word.
    assert_eq!(masked("订单 11010519491231002X"), "订单 [id]");
}

#[test]
fn several_kinds_in_one_text() {
    let (text, count) =
        mask_pii("Email jo@example.com or call (555) 123-4567; 卡号 4111111111111111");
    assert_eq!(text, "Email [email] or call [phone]; 卡号 [card]");
    assert_eq!(count, 3);
}

#[test]
fn dates_prices_and_order_numbers_are_not_masked() {
    for text in [
        "Ordered on 2023-01-05, delivered 2023/01/09, refund on 05.01.2023",
        "20230105 and 2023年1月5日 and 2019-2020 season",
        "Paid $1,299.99 then ¥12800 and NT$4,500.00, total 12,345,678",
        "Order #123456789012 is late",
        "Order number 4111111111111111 shipped",
        "订单号：13812345678",
        "订单号 1234567890123456",
        "tracking 9400111899223344556677",
        "Flight UA 1234 delayed 3 hours, room 8808",
        "The range 2000-3000元 and 5000 3000 units",
        "Card ending 1234, ref 1234 5678 9012 3456",
        "1234567812345678 is not Luhn valid",
        "7111111111111114 has no known issuer",
        "11010519491231002Y and 110105194912310021 have wrong check digits",
        "991234199001011234 has no province",
        "version 1.13812345678 and 138123456789 (12 digits)",
        "IP 192.168.100.200 and v2.3.4",
        "91234567 without a phone word",
        "5551234567 without a phone word",
        "score 3.5551234567",
        "ISBN 978-7-111-12345-6",
    ] {
        assert_eq!(masked(text), text);
    }
}

#[test]
fn spans_never_overlap_and_stay_in_text() {
    let text = "13812345678@qq.com 4111111111111111 11010519491231002X";
    let spans = find_pii(text);
    assert_eq!(spans.len(), 3);
    assert_eq!(spans[0].kind, PiiKind::Email);
    for pair in spans.windows(2) {
        assert!(pair[0].end <= pair[1].start);
    }
}

#[test]
fn check_digits() {
    assert!(luhn_valid(&[
        4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
    ]));
    assert!(!luhn_valid(&[
        4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2
    ]));
    assert!(valid_id_check_digit("11010519491231002X"));
    assert!(!valid_id_check_digit("110105194912310021"));
}
