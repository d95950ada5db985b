//! The schema-driven JSON encoder's refusals, on constructors of the
//! built-in schema: each wrong value is one line naming the field path and
//! what was found.

use inspector::tl::dynamic::Schema;
use inspector::tl::json::TlJson;
use serde_json::{json, Value};

fn refusal(v: Value) -> String {
    Schema::builtin().encode_json(&v).unwrap_err().to_string()
}

#[test]
fn wrong_constructor_names_and_objects() {
    let media = |geo: Value| json!({"_": "inputMediaGeoPoint", "geo_point": geo});
    assert_eq!(
        refusal(media(json!({"lat": 1.0}))),
        "error in JSON field geo_point: missing \"_\" (the constructor name of InputGeoPoint)"
    );
    assert_eq!(
        refusal(media(json!({"_": 5}))),
        "error in JSON field geo_point: \"_\" must be a constructor name, found the number 5"
    );
    assert_eq!(
        refusal(media(json!({"_": "noSuchPoint"}))),
        "error in JSON field geo_point: unknown constructor \"noSuchPoint\" for InputGeoPoint"
    );
    assert!(
        refusal(media(json!({"_": "inputPeerSelf"}))).starts_with("error in JSON field geo_point: inputPeerSelf is ")
    );
    assert_eq!(
        refusal(media(json!("north"))),
        "error in JSON field geo_point: expected an object for InputGeoPoint, found the string \"north\""
    );
    assert_eq!(
        refusal(media(json!({"_": "inputGeoPoint", "lat": 1.0, "long": 2.0, "alt": 3}))),
        "error in JSON field geo_point.alt: inputGeoPoint has no such field (its fields: flags, lat, long, accuracy_radius)"
    );
    assert_eq!(
        refusal(json!({"_": "updates.getState", "pts": 1})),
        "error in JSON field pts: updates.getState has no fields"
    );
}

#[test]
fn flags_and_true_fields_must_agree() {
    let call = |extra: Value| {
        let mut v = json!({"_": "account.getNotifyExceptions"});
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        v
    };
    assert_eq!(
        refusal(call(json!({"compare_sound": "yes"}))),
        "error in JSON field compare_sound: expected true or false, found the string \"yes\""
    );
    assert_eq!(
        refusal(call(json!({"flags": -1}))),
        "error in JSON field flags: expected a 32-bit unsigned integer, found the number -1"
    );
    assert_eq!(
        refusal(call(json!({"flags": 7, "compare_sound": true}))),
        "error in JSON field flags: flags 7 (0x7) disagree with the fields, which give 2 (0x2); leave flags out to derive it"
    );
    // Given right, the flags are the fields' own.
    let bytes = Schema::builtin().encode_json(&call(json!({"flags": 2, "compare_sound": true}))).unwrap();
    assert_eq!(bytes, [0x79, 0x74, 0x57, 0x53, 2, 0, 0, 0]);
}

#[test]
fn strings_must_be_strings_of_a_length_tl_can_carry() {
    assert!(refusal(json!({"_": "contacts.resolveUsername", "username": 5}))
        .starts_with("error in JSON field username: expected a string"));
    let long = "u".repeat((1 << 24) + 1);
    assert_eq!(
        refusal(json!({"_": "contacts.resolveUsername", "username": long})),
        "error in JSON field username: a string of 16777217 bytes is longer than TL allows (16777215)"
    );
}

#[test]
fn a_bare_object_names_no_other_constructor() {
    let salts = |salt: Value| json!({"_": "future_salts", "req_msg_id": 1, "now": 2, "salts": [salt]});
    let salt = json!({"valid_since": 3, "valid_until": 4, "salt": 5});
    let bytes = Schema::builtin().encode_json(&salts(salt.clone())).unwrap();
    assert_eq!(bytes.len(), 4 + 8 + 4 + 4 + 16);
    let mut named = salt.clone();
    named["_"] = json!("future_salt");
    assert_eq!(Schema::builtin().encode_json(&salts(named)).unwrap(), bytes);
    let mut wrong = salt;
    wrong["_"] = json!("pong");
    assert_eq!(
        refusal(salts(wrong)),
        "error in JSON field salts.0: expected the bare future_salt, found \"_\": the string \"pong\""
    );
}

#[test]
fn nesting_deeper_than_the_limit_is_refused() {
    let mut peer = json!({"_": "inputPeerSelf"});
    for n in 0..205 {
        peer = json!({"_": "inputPeerUserFromMessage", "peer": peer, "msg_id": n, "user_id": 1});
    }
    let call = json!({"_": "messages.getHistory", "peer": peer, "offset_id": 0, "offset_date": 0,
        "add_offset": 0, "limit": 1, "max_id": 0, "min_id": 0, "hash": 0});
    let e = refusal(call);
    assert!(e.ends_with(": nested deeper than 200 levels"), "{e}");
    assert!(e.starts_with("error in JSON field peer.peer.peer."), "{e}");
}

#[test]
fn values_of_the_wrong_kind_for_doubles_int128_bare_and_undefined_fields() {
    let geo = |lat: Value| json!({"_": "inputGeoPoint", "lat": lat, "long": 2.0});
    let e = refusal(geo(json!("north")));
    assert!(e.starts_with("error in JSON field lat: expected a double"), "{e}");
    // A double may also be given by its 8 bytes, for values JSON cannot hold.
    let exact = Schema::builtin().encode_json(&geo(json!({"_": "double", "hex": "000000000000f87f"}))).unwrap();
    assert_eq!(&exact[8..16], &f64::NAN.to_bits().to_le_bytes());
    // resPQ's nonce is 16 bytes of hex: 15 are refused.
    let res_pq = json!({"_": "resPQ", "nonce": "00".repeat(15), "server_nonce": "00".repeat(16), "pq": {"_": "bytes", "hex": ""},
        "server_public_key_fingerprints": []});
    let e = refusal(res_pq);
    assert!(e.starts_with("error in JSON field nonce: expected an int128"), "{e}");
    // A bare field given something other than an object.
    let salts = json!({"_": "future_salts", "req_msg_id": 1, "now": 2, "salts": [7]});
    assert_eq!(refusal(salts), "error in JSON field salts.0: expected an object for future_salt, found the number 7");
    // A field of a type the schema does not define.
    let schema = Schema::parse(&[("my.tl", "holder#1 x:nothing = Holder;\n")]).unwrap();
    let e = schema.encode_json(&json!({"_": "holder", "x": 1})).unwrap_err().to_string();
    assert_eq!(e, "error in JSON field x: the schema uses the type nothing but does not define it");
}

#[test]
fn a_key_with_a_line_break_is_named_escaped() {
    // The path is made of the input's keys; a carriage return or newline in
    // one must not break the one-line message (found by the json fuzz
    // target, corpus/regressions/json/key-with-a-carriage-return-in-a-json-error-path).
    assert_eq!(
        refusal(json!({"_": "resPQ", "non\rver_ts": {}})),
        "error in JSON field non\\rver_ts: resPQ has no such field (its fields: nonce, server_nonce, pq, \
         server_public_key_fingerprints)"
    );
    let typed = inspector::tl::ExportedChatInvite::from_json(&json!({"_": "chatInviteExported", "li\nnk": 1}));
    let line = typed.unwrap_err().to_string();
    assert!(line.starts_with("error in JSON field li\\nnk: "), "{line}");
}
