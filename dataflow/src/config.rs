//! YAML configuration for any subcommand: `cryoflux refine job.yaml` or `--config job.yaml`.
//!
//! The file is a mapping whose keys are the subcommand's long flag names (RELION style, e.g.
//! `i`, `o`, `sym`, `particle_diameter`, or their aliases) and whose values are what the flag
//! takes; `true` turns a switch on, `false` leaves it off, and a list repeats a flag. The keys
//! become command-line arguments placed *before* the ones typed, and every flag may be given
//! more than once with the last one winning, so flags on the command line override the file.
//! Unknown keys and values a flag rejects are reported with the file's line number.
//!
//! Flag names take `-` and `_` alike (`--particle-diameter` is `--particle_diameter`): the
//! typed arguments and the file's keys are normalised once here ([`normalise_flag`]), so no
//! flag needs a kebab-case alias.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::CommandFactory;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::cli::Cli;

/// One configuration value, as YAML gives it.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum ConfigValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    List(Vec<ConfigValue>),
}

impl ConfigValue {
    fn as_argument(&self) -> Option<String> {
        match self {
            ConfigValue::Bool(b) => Some(b.to_string()),
            ConfigValue::Int(i) => Some(i.to_string()),
            ConfigValue::Float(f) => Some(f.to_string()),
            ConfigValue::Text(s) => Some(s.clone()),
            ConfigValue::List(_) => None,
        }
    }
}

/// Where each argument that came from a configuration file was written, so that an error
/// clap reports about that argument can name the file and line.
#[derive(Debug, Default, Clone)]
pub struct ConfigOrigins {
    entries: Vec<(String, PathBuf, usize)>,
}

impl ConfigOrigins {
    /// `file:line` of the configuration key that produced flag `--name`, if any.
    pub fn locate(&self, flag: &str) -> Option<String> {
        let name = flag.trim_start_matches('-').split([' ', '=', '<']).next()?;
        self.entries
            .iter()
            .rev()
            .find(|(key, _, _)| key == name)
            .map(|(key, path, line)| format!("{}:{line} (key `{key}`)", path.display()))
    }
}

/// Expand a configuration file named in `args` (the first argument after the subcommand when it
/// ends in `.yaml`/`.yml`, or the value of `--config`) into flags placed before the typed ones.
/// Arguments without a configuration file are returned unchanged.
pub fn expand(args: Vec<OsString>) -> anyhow::Result<(Vec<OsString>, ConfigOrigins)> {
    let args = normalise_flags(args);
    let Some((subcommand_index, config_index, takes_flag)) = find_config(&args) else {
        return Ok((args, ConfigOrigins::default()));
    };
    let path = PathBuf::from(&args[config_index]);
    let (subcommand, _) = subcommand_path(&args).expect("found with the configuration");
    let (flags, origins) = flags_from_file(&path, &subcommand)?;

    let mut expanded = args[..=subcommand_index].to_vec();
    expanded.extend(flags.into_iter().map(OsString::from));
    let skip_before = if takes_flag {
        config_index - 1
    } else {
        config_index
    };
    for (index, arg) in args.iter().enumerate().skip(subcommand_index + 1) {
        if index != config_index && index != skip_before {
            expanded.push(arg.clone());
        }
    }
    Ok((expanded, origins))
}

/// Every `--flag-name` (up to a bare `--`) with its name's `-` written `_`: RELION's spelling,
/// which is the flags' long name.
fn normalise_flags(args: Vec<OsString>) -> Vec<OsString> {
    let mut after_separator = false;
    args.into_iter()
        .map(|arg| {
            if after_separator || arg == "--" {
                after_separator = true;
                return arg;
            }
            match arg.to_str() {
                Some(text) if text.starts_with("--") => OsString::from(normalise_flag(text)),
                _ => arg,
            }
        })
        .collect()
}

/// `--a-b=c-d` → `--a_b=c-d`: the name part of a flag (before any `=`) with `-` written `_`
/// after the leading dashes; a configuration key (`a-b`) likewise.
fn normalise_flag(flag: &str) -> String {
    let dashes = flag.len() - flag.trim_start_matches('-').len();
    let (name, value) = match flag[dashes..].split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (&flag[dashes..], None),
    };
    let mut out = format!("{}{}", &flag[..dashes], name.replace('-', "_"));
    if let Some(value) = value {
        out.push('=');
        out.push_str(value);
    }
    out
}

/// The subcommand path typed (e.g. `bench io`) and the index of its last word in `args`.
fn subcommand_path(args: &[OsString]) -> Option<(Vec<String>, usize)> {
    let mut command = Cli::command();
    let mut path = Vec::new();
    let mut last = None;
    for (index, arg) in args.iter().enumerate().skip(1) {
        let Some(next) = command.find_subcommand(arg).cloned() else {
            continue;
        };
        path.push(next.get_name().to_owned());
        last = Some(index);
        command = next;
    }
    Some((path, last?))
}

/// (index of the last subcommand word, index of the config path, whether it followed
/// `--config`).
fn find_config(args: &[OsString]) -> Option<(usize, usize, bool)> {
    let (_, subcommand_index) = subcommand_path(args)?;
    if let Some(flag) = args.iter().position(|a| a == "--config") {
        return (flag + 1 < args.len()).then_some((subcommand_index, flag + 1, true));
    }
    let next = args
        .get(subcommand_index + 1)?
        .to_string_lossy()
        .to_ascii_lowercase();
    (next.ends_with(".yaml") || next.ends_with(".yml")).then_some((
        subcommand_index,
        subcommand_index + 1,
        false,
    ))
}

/// The flags a configuration file stands for, checked against the subcommand's grammar.
fn flags_from_file(
    path: &Path,
    subcommand: &[String],
) -> anyhow::Result<(Vec<String>, ConfigOrigins)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read configuration {}", path.display()))?;
    let entries: BTreeMap<String, Spanned<ConfigValue>> = if text.trim().is_empty() {
        BTreeMap::new()
    } else {
        serde_saphyr::from_str(&text).map_err(|e| yaml_error(path, &text, e))?
    };
    let mut grammar = Cli::command();
    for name in subcommand {
        grammar = grammar
            .find_subcommand(name)
            .expect("subcommand exists")
            .clone();
    }
    let subcommand = subcommand.join(" ");

    let mut entries: Vec<_> = entries.into_iter().collect();
    entries.sort_by_key(|(_, value)| value.referenced.line());
    let mut flags = Vec::new();
    let mut origins = ConfigOrigins::default();
    for (key, value) in entries {
        let line = value.referenced.line() as usize;
        let key = normalise_flag(&key);
        let arg = grammar.get_arguments().find(|a| {
            a.get_long() == Some(key.as_str())
                || a.get_all_aliases()
                    .is_some_and(|al| al.contains(&key.as_str()))
        });
        let Some(arg) = arg else {
            let known: Vec<_> = grammar
                .get_arguments()
                .filter_map(|a| a.get_long())
                .collect();
            bail!(
                "{}:{line}: unknown key `{key}` for `cryoflux {subcommand}`; expected one of: {}",
                path.display(),
                known.join(", ")
            );
        };
        let long = arg.get_long().expect("matched by long name or alias");
        origins
            .entries
            .push((long.to_owned(), path.to_path_buf(), line));
        let values = match &value.value {
            ConfigValue::List(items) => items.clone(),
            single => vec![single.clone()],
        };
        for item in values {
            let text = item.as_argument().with_context(|| {
                format!("{}:{line}: `{key}` holds a nested list", path.display())
            })?;
            if arg.get_action().takes_values() {
                flags.push(format!("--{long}={text}"));
            } else {
                match item {
                    ConfigValue::Bool(true) => flags.push(format!("--{long}")),
                    ConfigValue::Bool(false) => {}
                    _ => bail!(
                        "{}:{line}: `{key}` is a switch; expected true or false, found {text:?}",
                        path.display()
                    ),
                }
            }
        }
    }
    Ok((flags, origins))
}

/// The YAML parser's error about `text` (read from `path`) in a user's terms: a repeated key is
/// named with both its lines; anything else keeps the parser's words after `path`.
fn yaml_error(path: &Path, text: &str, error: serde_saphyr::Error) -> anyhow::Error {
    let mut inner = &error;
    while let serde_saphyr::Error::WithSnippet { error, .. } = inner {
        inner = error;
    }
    let serde_saphyr::Error::DuplicateMappingKey { key, location } = inner else {
        return anyhow::anyhow!("{}: {error}", path.display());
    };
    let line = location.line();
    let Some(key) = key else {
        return anyhow::anyhow!(
            "{}:{line}: a key appears twice; expected each key once",
            path.display()
        );
    };
    let first = text
        .lines()
        .position(|l| l.starts_with(&format!("{key}:")))
        .map(|index| index as u64 + 1)
        .filter(|&first| first < line);
    let lines = first.map_or_else(
        || format!("line {line}"),
        |first| format!("lines {first} and {line}"),
    );
    anyhow::anyhow!(
        "{}:{line}: key `{key}` appears twice ({lines}); expected each key once (a flag typed on \
         the command line overrides the file's value)",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    fn write_config(text: &str) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.yaml");
        std::fs::write(&path, text).unwrap();
        let path = path.to_str().unwrap().to_owned();
        (dir, path)
    }

    #[test]
    fn keys_become_flags_before_typed_ones() {
        let (_dir, path) = write_config("# a job\ni: a.star\no: b.parquet\n");
        let (expanded, _) = expand(args(&["cryoflux", "convert", &path, "--o", "c.star"])).unwrap();
        assert_eq!(
            expanded,
            args(&[
                "cryoflux",
                "convert",
                "--i=a.star",
                "--o=b.parquet",
                "--o",
                "c.star"
            ])
        );
        let (same, _) = expand(args(&["cryoflux", "convert", "--config", &path])).unwrap();
        assert_eq!(
            same,
            args(&["cryoflux", "convert", "--i=a.star", "--o=b.parquet"])
        );
    }

    #[test]
    fn typed_flags_override_the_file() {
        let (_dir, path) = write_config("i: a.star\no: b.parquet\n");
        let (expanded, _) = expand(args(&["cryoflux", "convert", &path, "--o", "c.star"])).unwrap();
        let cli = Cli::try_parse_from(expanded).unwrap();
        let crate::cli::Command::Convert(convert) = cli.command else {
            panic!("expected convert")
        };
        assert_eq!(convert.output(), Path::new("c.star"));
    }

    #[test]
    fn nested_subcommands_take_their_own_keys() {
        let (_dir, path) = write_config("rows: 10\nrepeats: 1\n");
        let (expanded, origins) = expand(args(&["cryoflux", "bench", "io", &path])).unwrap();
        assert_eq!(
            expanded,
            args(&["cryoflux", "bench", "io", "--rows=10", "--repeats=1"])
        );
        assert!(
            origins
                .locate("--rows <ROWS>")
                .unwrap()
                .ends_with("job.yaml:1 (key `rows`)")
        );
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let (_dir, path) = write_config("i: a.star\n\nbogus: 1\n");
        let message = expand(args(&["cryoflux", "convert", &path]))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("job.yaml:3")
                && message.contains("bogus")
                && message.contains("expected one of: i, o"),
            "{message}"
        );
    }

    #[test]
    fn kebab_case_flags_and_keys_are_the_long_names() {
        let typed = args(&[
            "cryoflux",
            "image",
            "--new-box=8",
            "--i",
            "my-map.mrc",
            "--",
            "--a-b",
        ]);
        assert_eq!(
            expand(typed).unwrap().0,
            args(&[
                "cryoflux",
                "image",
                "--new_box=8",
                "--i",
                "my-map.mrc",
                "--",
                "--a-b"
            ])
        );
        let (_dir, path) = write_config("filter-edge-width: 3\nnew_box: 8\n");
        let (expanded, _) = expand(args(&["cryoflux", "image", &path])).unwrap();
        assert_eq!(
            expanded,
            args(&["cryoflux", "image", "--filter_edge_width=3", "--new_box=8"])
        );
    }

    #[test]
    fn duplicate_key_names_the_key_file_and_lines() {
        let (_dir, path) = write_config("i: a.star\no: b.star\ni: c.star\n");
        let message = expand(args(&["cryoflux", "convert", &path]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            format!(
                "{path}:3: key `i` appears twice (lines 1 and 3); expected each key once (a flag \
                 typed on the command line overrides the file's value)"
            )
        );
    }

    #[test]
    fn arguments_without_a_config_are_unchanged() {
        let plain = args(&["cryoflux", "convert", "a.star", "b.parquet"]);
        assert_eq!(expand(plain.clone()).unwrap().0, plain);
    }
}
