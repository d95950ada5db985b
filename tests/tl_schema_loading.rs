//! Loading a schema: what the first pass refuses, so that building the
//! tables never meets it.

use inspector::tl::dynamic::Schema;

/// A field conditional on a field that is not a flag word (or on a flag
/// word defined after it) is refused by the parser, with the line and the
/// column of that field; building a schema relies on it.
#[test]
fn a_condition_on_a_field_that_is_not_a_flag_word_is_refused_where_it_stands() {
    // `a flags:# x:int ` is 16 characters: the field starts at column 17.
    let e = Schema::parse(&[("t.tl", "// a comment\na flags:# x:int y:x.0?int = A;")]).unwrap_err();
    assert_eq!((e.file.as_str(), e.line, e.column), ("t.tl", 2, 17), "{e}");
    assert!(e.message.contains("`y:x.0?int`"), "{e}");
    let e = Schema::parse(&[("t.tl", "a y:f.0?int f:# = A;")]).unwrap_err();
    assert_eq!((e.line, e.column), (1, 3), "{e}");
    assert!(e.message.contains("`y:f.0?int`"), "{e}");
}
