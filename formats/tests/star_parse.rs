//! The STAR grammar as RELION writes it, the liberties other writers take, and one test per
//! error: each error must name the file, the line and (where there is one) the label.

use std::path::Path;

use cryoflux_formats::star::{ColumnData, StarFile, Value};

fn parse(text: &str) -> cryoflux_formats::Result<StarFile> {
    StarFile::parse(text, Path::new("in/test.star"))
}

/// Parse `text`, expecting an error; check that the message names the file, `line` and
/// `field`, and contains `needle`.
fn assert_error(text: &str, line: usize, field: Option<&str>, needle: &str) {
    let message = parse(text).expect_err("expected a parse error").to_string();
    assert!(message.starts_with("in/test.star: "), "{message}");
    let place = match field {
        Some(field) => format!("line {line}, {field}:"),
        None => format!("line {line}:"),
    };
    assert!(message.contains(&place), "expected `{place}` in: {message}");
    assert!(
        message.contains(needle),
        "expected `{needle}` in: {message}"
    );
}

#[test]
fn relion_31_particle_file() {
    let text = "\n# version 30001\n\ndata_optics\n\nloop_ \n_rlnOpticsGroup #1 \n\
                _rlnOpticsGroupName #2 \n_rlnImagePixelSize #3 \n\
                           1 opticsGroup1     1.500000 \n \n\n# version 30001\n\n\
                data_particles\n\nloop_ \n_rlnImageName #1 \n_rlnDefocusU #2 \n\
                _rlnOpticsGroup #3 \n  1@a.mrcs 10000.000000            1 \n \n";
    let star = parse(text).unwrap();
    assert_eq!(star.blocks.len(), 2);
    let optics = star.block("optics").unwrap().table.as_ref().unwrap();
    assert_eq!(optics.ints("rlnOpticsGroup"), Some(&[1][..]));
    assert_eq!(
        optics.texts("rlnOpticsGroupName").unwrap(),
        ["opticsGroup1"]
    );
    let particles = star.block("particles").unwrap().table.as_ref().unwrap();
    assert_eq!(particles.rows(), 1);
    assert_eq!(particles.floats("rlnDefocusU"), Some(&[10000.0][..]));
}

#[test]
fn key_value_items_and_loop_in_one_block() {
    let text = "data_model_general\n_rlnCurrentResolution 7.5 # Å\n_rlnNrClasses 1\n\
                _rlnSymmetryGroup 'C 1'\n_rlnMaskName \"\"\nloop_\n_rlnSpectralIndex\n0\n1\n";
    let star = parse(text).unwrap();
    let block = &star.blocks[0];
    assert_eq!(block.pair("rlnCurrentResolution"), Some(&Value::Float(7.5)));
    assert_eq!(block.pair("rlnNrClasses"), Some(&Value::Int(1)));
    assert_eq!(
        block.pair("rlnSymmetryGroup"),
        Some(&Value::Text("C 1".into()))
    );
    assert_eq!(block.pair("rlnMaskName"), Some(&Value::Text(String::new())));
    assert_eq!(
        block.table.as_ref().unwrap().ints("rlnSpectralIndex"),
        Some(&[0, 1][..])
    );
}

#[test]
fn items_after_a_loop_end_it() {
    let star = parse("data_a\nloop_\n_rlnClassNumber\n1\n2\n_rlnNrClasses 2\n").unwrap();
    let block = &star.blocks[0];
    assert_eq!(block.table.as_ref().unwrap().rows(), 2);
    assert_eq!(block.pair("rlnNrClasses"), Some(&Value::Int(2)));
}

#[test]
fn whitespace_comments_and_line_ends() {
    let text = "# a header comment\r\n# version 30001\r\ndata_\r\n\r\nloop_\r\n\
                _rlnImageName\t#1\r\n_rlnDefocusU #2\r\n# comment in a loop\r\n\
                1@s.mrcs\t\t100.5\r\n\r\n\r\n   2@s.mrcs 200 # trailing comment\r\n3@s.mrcs 300";
    let star = parse(text).unwrap();
    assert_eq!(star.blocks[0].name, "");
    let table = star.blocks[0].table.as_ref().unwrap();
    assert_eq!(
        table.texts("rlnImageName").unwrap(),
        ["1@s.mrcs", "2@s.mrcs", "3@s.mrcs"]
    );
    assert_eq!(
        table.floats("rlnDefocusU"),
        Some(&[100.5, 200.0, 300.0][..])
    );
}

#[test]
fn byte_order_mark_is_ignored() {
    let star = parse("\u{feff}data_x\n_rlnNrClasses 3\n").unwrap();
    assert_eq!(star.blocks[0].pair("rlnNrClasses"), Some(&Value::Int(3)));
}

#[test]
fn loops_end_at_stop_data_loop_or_eof() {
    let text = "data_a\nloop_\n_rlnClassNumber\n1\nstop_\ndata_b\nloop_\n_rlnClassNumber\n2\n\
                data_c\nloop_\n_rlnClassNumber\ndata_d\nloop_\n_rlnClassNumber\n4";
    let star = parse(text).unwrap();
    let rows: Vec<usize> = star
        .blocks
        .iter()
        .map(|b| b.table.as_ref().map_or(99, |t| t.rows()))
        .collect();
    assert_eq!(rows, [1, 1, 0, 1], "a loop with zero rows is valid");
    let empty = star.block("c").unwrap().table.as_ref().unwrap();
    assert_eq!(
        empty.column("rlnClassNumber").unwrap().data,
        ColumnData::Int(vec![])
    );
}

#[test]
fn quoted_values_follow_the_star_rule() {
    let text = "data_\nloop_\n_rlnMicrographName\n_rlnGroupName\n\"a b\" 'it's'\n\"\" \"x\"y\"\n\
                \"_not_a_label\" 'data_not_a_block'\n";
    let star = parse(text).unwrap();
    let table = star.blocks[0].table.as_ref().unwrap();
    assert_eq!(
        table.texts("rlnMicrographName").unwrap(),
        ["a b", "", "_not_a_label"]
    );
    assert_eq!(
        table.texts("rlnGroupName").unwrap(),
        ["it's", "x\"y", "data_not_a_block"]
    );
}

#[test]
fn unknown_labels_are_kept_as_text() {
    let star = parse("data_\nloop_\n_wrpPickScore #1\n_rlnDefocusU #2\n0.75 1\n").unwrap();
    let table = star.blocks[0].table.as_ref().unwrap();
    assert_eq!(table.texts("wrpPickScore").unwrap(), ["0.75"]);
    assert_eq!(
        table.columns()[0].label,
        "wrpPickScore",
        "file order is kept"
    );
}

#[test]
fn numbers_in_all_their_spellings() {
    let text = "data_\nloop_\n_rlnLogLikeliContribution\n_rlnClassNumber\n1.5e3 1.000000\nnan 2\n\
                -inf +3\n.5 4e0\n";
    let star = parse(text).unwrap();
    let table = star.blocks[0].table.as_ref().unwrap();
    let values = table.floats("rlnLogLikeliContribution").unwrap();
    assert_eq!(values[0], 1500.0);
    assert!(values[1].is_nan());
    assert_eq!((values[2], values[3]), (f64::NEG_INFINITY, 0.5));
    assert_eq!(table.ints("rlnClassNumber"), Some(&[1, 2, 3, 4][..]));
}

#[test]
fn keywords_are_case_insensitive() {
    let star = parse("DATA_x\nLOOP_\n_rlnClassNumber\n1\nSTOP_\n").unwrap();
    assert_eq!(star.blocks[0].name, "x");
    assert_eq!(star.blocks[0].table.as_ref().unwrap().rows(), 1);
}

#[test]
fn empty_input_has_no_blocks() {
    assert!(parse("").unwrap().blocks.is_empty());
    assert!(parse("# only a comment\n\n").unwrap().blocks.is_empty());
}

#[test]
fn error_non_number_in_float_column() {
    let text = "data_\nloop_\n_rlnImageName\n_rlnDefocusU\n1@a.mrcs 100\n2@a.mrcs abc\n";
    assert_error(
        text,
        6,
        Some("rlnDefocusU"),
        "expected a real number, found `abc`",
    );
}

#[test]
fn error_fraction_in_int_column() {
    let text = "data_\nloop_\n_rlnImageName\n_rlnOpticsGroup\n1@a.mrcs 1.5\n";
    assert_error(
        text,
        5,
        Some("rlnOpticsGroup"),
        "expected an integer, found `1.5`",
    );
}

#[test]
fn error_empty_string_in_numeric_column() {
    assert_error(
        "data_\nloop_\n_rlnDefocusU\n\"\"\n",
        4,
        Some("rlnDefocusU"),
        "found ``",
    );
}

#[test]
fn error_non_number_in_key_value_item() {
    let text = "data_general\n_rlnFinalResolution three\n";
    assert_error(
        text,
        2,
        Some("rlnFinalResolution"),
        "expected a real number, found `three`",
    );
}

#[test]
fn error_row_too_short() {
    let text =
        "data_\nloop_\n_rlnImageName\n_rlnDefocusU\n_rlnDefocusV\n1@a.mrcs 1 2\n2@a.mrcs 1\n";
    assert_error(
        text,
        7,
        None,
        "row has 2 values but the loop_ at line 2 declares 3 labels",
    );
}

#[test]
fn error_row_too_long() {
    let text = "data_\nloop_\n_rlnImageName\n_rlnDefocusU\n1@a.mrcs 1 2 3\n";
    assert_error(
        text,
        5,
        None,
        "row has 4 values but the loop_ at line 2 declares 2 labels",
    );
}

#[test]
fn error_unterminated_quote() {
    let text = "data_\nloop_\n_rlnImageName\n_rlnGroupName\n1@a.mrcs \"group one\n";
    assert_error(text, 5, None, "unterminated \" quote starting at column 10");
    assert_error(
        "data_\n_rlnMaskName 'mask.mrc\n",
        2,
        None,
        "unterminated ' quote",
    );
}

#[test]
fn error_duplicate_label_in_loop_header() {
    let text = "data_p\nloop_\n_rlnImageName #1\n_rlnDefocusU #2\n_rlnImageName #3\n";
    assert_error(
        text,
        5,
        Some("rlnImageName"),
        "appears twice in block data_p (first at line 3)",
    );
}

#[test]
fn error_duplicate_label_in_block() {
    let text = "data_g\n_rlnNrClasses 1\nloop_\n_rlnNrClasses\n1\n";
    assert_error(
        text,
        4,
        Some("rlnNrClasses"),
        "appears twice in block data_g (first at line 2)",
    );
    let text = "data_g\n_rlnNrClasses 1\n_rlnNrClasses 2\n";
    assert_error(text, 3, Some("rlnNrClasses"), "appears twice");
}

#[test]
fn same_label_in_different_blocks_is_fine() {
    let star = parse("data_a\n_rlnNrClasses 1\ndata_b\n_rlnNrClasses 2\n").unwrap();
    assert_eq!(
        star.block("b").unwrap().pair("rlnNrClasses"),
        Some(&Value::Int(2))
    );
}

#[test]
fn error_value_before_any_block() {
    assert_error(
        "# comment\n1@a.mrcs 3\n",
        2,
        None,
        "value `1@a.mrcs` before any data_ block",
    );
    assert_error(
        "_rlnNrClasses 1\n",
        1,
        Some("rlnNrClasses"),
        "label before any data_ block",
    );
    assert_error(
        "loop_\n_rlnNrClasses\n",
        1,
        None,
        "loop_ before any data_ block",
    );
}

#[test]
fn error_label_without_value() {
    assert_error(
        "data_\n_rlnFinalResolution\n",
        2,
        Some("rlnFinalResolution"),
        "has no value",
    );
    assert_error(
        "data_\n_rlnFinalResolution # 3.2\n",
        2,
        Some("rlnFinalResolution"),
        "no value",
    );
}

#[test]
fn error_value_outside_loop() {
    assert_error(
        "data_a\n_rlnNrClasses 1\n17\n",
        3,
        None,
        "`17` outside a loop_",
    );
}

#[test]
fn error_extra_text_on_item_or_keyword_lines() {
    assert_error(
        "data_a\n_rlnNrClasses 1 2\n",
        2,
        None,
        "unexpected `2` after `1`",
    );
    assert_error("data_a b\n", 1, None, "unexpected `b` after `data_a`");
    assert_error(
        "data_a\nloop_ _rlnX\n",
        2,
        None,
        "unexpected `_rlnX` after `loop_`",
    );
    assert_error(
        "data_a\nloop_\n_rlnX 5\n",
        3,
        None,
        "unexpected `5` after `rlnX`",
    );
}

#[test]
fn error_loop_without_labels() {
    assert_error(
        "data_a\nloop_\n1 2\n",
        3,
        None,
        "loop_ has no labels before its first row",
    );
    assert_error("data_a\nloop_\n\ndata_b\n", 2, None, "loop_ has no labels");
}

#[test]
fn error_second_loop_in_a_block() {
    let text = "data_a\nloop_\n_rlnClassNumber\n1\nloop_\n_rlnGroupNumber\n2\n";
    assert_error(text, 5, None, "block data_a already has a loop_");
}

#[test]
fn error_bare_underscore_and_save_frames() {
    assert_error(
        "data_a\n_ 1\n",
        2,
        None,
        "`_` must be followed by a label name",
    );
    assert_error(
        "data_a\nsave_frame\n",
        2,
        None,
        "not part of RELION's STAR dialect",
    );
}

#[test]
fn error_invalid_utf8_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.star");
    std::fs::write(&path, b"data_\nloop_\n_rlnImageName\n\xff@a.mrcs\n").unwrap();
    let message = StarFile::read(&path).unwrap_err().to_string();
    assert!(
        message.contains("bad.star: line 4: ") && message.contains("UTF-8"),
        "{message}"
    );
}

#[test]
fn error_missing_file_names_it() {
    let message = StarFile::read(Path::new("/no/such/dir/x.star"))
        .unwrap_err()
        .to_string();
    assert!(message.starts_with("/no/such/dir/x.star: "), "{message}");
}
