//! TL schema files a user may give with `--schema`: each one that does not
//! load is one line with its file, line and column; what loads with a
//! remark (a repeated id, a type used but never defined) is a warning.

use inspector::tl::dynamic::Schema;

fn refusal(text: &str) -> String {
    Schema::parse(&[("my.tl", text)]).unwrap_err().to_string()
}

fn warnings(text: &str) -> Vec<String> {
    let schema = Schema::parse(&[("my.tl", text)]).unwrap_or_else(|e| panic!("{e}"));
    schema.warnings().iter().map(ToString::to_string).collect()
}

#[test]
fn lines_that_do_not_load_name_their_place() {
    assert_eq!(refusal("a#1 = A;\n---stuff---\nb#2 = B;\n"), "my.tl:2:1: unknown section `---stuff---`");
    assert_eq!(
        refusal("point#1 flags:# x:flags.40?int = Point;\n"),
        "my.tl:1:17: field x uses bit 40 of a 32-bit flag word"
    );
    // A flag on a field that is no flag word: the TL parser refuses it,
    // and the line names the field.
    assert_eq!(
        refusal("point#1 n:int x:n.0?int = Point;\n"),
        "my.tl:1:15: not a TL definition: `x:n.0?int` is not a valid field, or uses a flag word or generic type not \
         defined before it (MissingDef)"
    );
    let e = refusal("point#1 x:flags.0?int = Point;\n");
    assert!(e.starts_with("my.tl:1:"), "{e}");
    assert!(
        e.contains("`x:flags.0?int` is not a valid field, or uses a flag word or generic type not defined before it"),
        "{e}"
    );
    let e = refusal("point#zz x:int = Point;\n");
    assert!(e.starts_with("my.tl:1:") && e.contains("the constructor id is not hexadecimal"), "{e}");
    let e = refusal("point#1 x:int;\n");
    assert!(e.starts_with("my.tl:1:") && e.ends_with("the definition has no `= Type`"), "{e}");
}

#[test]
fn a_repeated_id_keeps_the_first_with_a_warning() {
    let w = warnings("a#0000000a = A;\nb#0000000a = B;\n");
    assert!(w.iter().any(|l| l == "my.tl:2: b has the id #0000000a of a (line 1); the first is kept"), "{w:?}");
}

#[test]
fn types_used_but_not_defined_are_named_in_a_warning() {
    // A vector of `true`, a generic that is not Vector, and a bare name that
    // is no constructor: each is a type the schema does not define.
    let text = "a#1 x:vector<true> = A;\nb#2 y:Foo<int> = B;\nc#3 z:nothing = C;\nd#4 e:a = D;\n";
    let w = warnings(text).join("\n");
    for ty in ["vector<true>", "Foo<int>", "nothing"] {
        assert!(w.contains(ty), "{ty}: {w}");
    }
    // `a` names a constructor: a bare field of it is defined.
    assert!(!w.contains("d:") && !w.contains(" a,") && !w.ends_with(" a"), "{w}");
}
