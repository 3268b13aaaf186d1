//! LAB on the command line: any text is accepted (netlab's own lookup resolves it and
//! explains a wrong one), while the lab ids and names are its possible values, so the shell
//! completion scripts offer them (`netlab run <TAB>`).

use std::ffi::OsStr;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::ErrorKind;

use netlab::lab;

#[derive(Clone, Copy, Debug)]
pub struct LabParser;

impl TypedValueParser for LabParser {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        value
            .to_str()
            .map(str::to_string)
            .ok_or_else(|| clap::Error::new(ErrorKind::InvalidUtf8).with_cmd(cmd))
    }

    /// Every lab's id (with its English title as the description zsh and fish show) and
    /// name.
    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(lab::all().iter().flat_map(|lab| {
            let id = match &lab.title.en {
                std::borrow::Cow::Borrowed(title) => PossibleValue::new(lab.id).help(*title),
                std::borrow::Cow::Owned(_) => PossibleValue::new(lab.id),
            };
            [id, PossibleValue::new(lab.name())]
        })))
    }
}
