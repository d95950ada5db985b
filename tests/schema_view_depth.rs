//! `inspector schema` outside the closure expands nested types one level
//! below the name asked for; deeper types are named with the command that
//! shows them.

use inspector::render::schema::render_schema_in;
use inspector::tl::dynamic::Schema;

#[test]
fn types_below_the_expanded_level_are_named_with_their_command() {
    let text = render_schema_in(Schema::builtin(), "messages.sendMessage", false).unwrap();
    let named: Vec<&str> = text.lines().filter(|l| l.contains("constructors: inspector schema ")).collect();
    assert!(!named.is_empty(), "{text}");
    for line in named {
        let (_, tail) = line.split_once("(any of ").unwrap_or_else(|| panic!("{line}"));
        let (count, command) = tail.split_once(" constructors: inspector schema ").unwrap_or_else(|| panic!("{line}"));
        assert!(count.parse::<usize>().is_ok_and(|n| n > 0), "{line}");
        let ty = command.trim_end_matches(')');
        // The command it names shows that type.
        assert!(render_schema_in(Schema::builtin(), ty, false).is_some(), "{line}");
    }
}
