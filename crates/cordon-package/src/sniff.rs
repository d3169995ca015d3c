//! Telling formats apart by their bytes, never by their names.

use std::fmt;
use std::io::{self, Read};

use serde::Serialize;

/// What a package was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// A directory on disk.
    Directory,
    /// A single file that is not an archive (a lone `.gz` of something
    /// other than a tar is such a file too).
    File,
    /// An uncompressed tar archive.
    Tar,
    /// A gzip-compressed tar archive (`.tar.gz`, `.tgz`, `.crate`).
    TarGz,
    /// A bzip2-compressed tar archive.
    TarBz2,
    /// An xz-compressed tar archive.
    TarXz,
    /// A zip archive (`.zip`, `.whl`, `.egg`, `.jar`).
    Zip,
    /// A Ruby gem: a tar holding `data.tar.gz` and `metadata.gz`.
    Gem,
}

impl Format {
    /// A short stable name: `tar.gz`, `zip`, `gem`.
    pub fn id(&self) -> &'static str {
        match self {
            Format::Directory => "directory",
            Format::File => "file",
            Format::Tar => "tar",
            Format::TarGz => "tar.gz",
            Format::TarBz2 => "tar.bz2",
            Format::TarXz => "tar.xz",
            Format::Zip => "zip",
            Format::Gem => "gem",
        }
    }

    /// Whether the format holds other files.
    pub fn is_archive(&self) -> bool {
        !matches!(self, Format::Directory | Format::File)
    }

    /// The compression around a tar, for tar formats.
    pub(crate) fn compression(&self) -> Option<Compression> {
        match self {
            Format::Tar | Format::Gem => Some(Compression::None),
            Format::TarGz => Some(Compression::Gzip),
            Format::TarBz2 => Some(Compression::Bzip2),
            Format::TarXz => Some(Compression::Xz),
            _ => None,
        }
    }

    /// The format a file name promises, going by its extension.
    pub(crate) fn from_name(name: &str) -> Option<Format> {
        let name = name.to_ascii_lowercase();
        let table: [(&[&str], Format); 6] = [
            (&[".tar.gz", ".tgz", ".crate"], Format::TarGz),
            (&[".tar.bz2", ".tbz2", ".tbz"], Format::TarBz2),
            (&[".tar.xz", ".txz"], Format::TarXz),
            (&[".tar"], Format::Tar),
            (&[".zip", ".whl", ".egg", ".jar"], Format::Zip),
            (&[".gem"], Format::Gem),
        ];
        table
            .into_iter()
            .find(|(suffixes, _)| suffixes.iter().any(|s| name.ends_with(s)))
            .map(|(_, format)| format)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Format {
    fn serialize<S: serde::Serializer>(
        &self,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// A compression around a tar stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Bzip2,
    Xz,
}

impl Compression {
    /// The name used in error messages.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Compression::None => "tar",
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
        }
    }

    /// The compression whose magic bytes start `bytes`, if any.
    fn of(bytes: &[u8]) -> Option<Compression> {
        if bytes.starts_with(&[0x1f, 0x8b]) {
            return Some(Compression::Gzip);
        }
        if bytes.starts_with(b"BZh")
            && bytes.get(3).is_some_and(|b| (b'1'..=b'9').contains(b))
        {
            return Some(Compression::Bzip2);
        }
        if bytes.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            return Some(Compression::Xz);
        }
        None
    }
}

/// A decompressing reader over `bytes`. Concatenated streams (several
/// gzip members, as `cat a.gz b.gz` makes) are read as one, as the
/// command-line tools do.
pub(crate) fn decoder<'a>(
    compression: Compression,
    bytes: &'a [u8],
) -> Box<dyn Read + 'a> {
    match compression {
        Compression::None => Box::new(bytes),
        Compression::Gzip => {
            Box::new(flate2::read::MultiGzDecoder::new(bytes))
        }
        Compression::Bzip2 => {
            Box::new(bzip2::read::MultiBzDecoder::new(bytes))
        }
        Compression::Xz => {
            Box::new(liblzma::read::XzDecoder::new_multi_decoder(bytes))
        }
    }
}

/// The format of `bytes`. A gem is reported as [`Format::Tar`]: only its
/// entries tell it apart.
pub(crate) fn sniff(bytes: &[u8]) -> Format {
    if is_zip(bytes) {
        return Format::Zip;
    }
    if is_tar_header(bytes) {
        return Format::Tar;
    }
    let Some(compression) = Compression::of(bytes) else {
        return Format::File;
    };
    let mut head = [0u8; 512];
    let filled = fill(decoder(compression, bytes), &mut head).unwrap_or(0);
    if !is_tar_header(&head[..filled]) {
        return Format::File;
    }
    match compression {
        Compression::Gzip => Format::TarGz,
        Compression::Bzip2 => Format::TarBz2,
        Compression::Xz => Format::TarXz,
        Compression::None => Format::Tar,
    }
}

/// Why bytes that start like a compressed stream cannot be read at all:
/// the stream breaks before it yields a tar header's worth of data, as
/// a truncated `.tar.gz` does. `None` for bytes that are not compressed,
/// or whose start decompresses.
pub(crate) fn broken_start(bytes: &[u8]) -> Option<String> {
    let compression = Compression::of(bytes)?;
    let mut head = [0u8; 512];
    let error = fill(decoder(compression, bytes), &mut head).err()?;
    let layer = compression.name();
    Some(match error.kind() {
        io::ErrorKind::UnexpectedEof => format!("truncated {layer} stream"),
        _ => format!("corrupt {layer} stream: {error}"),
    })
}

/// Whether `bytes` start like a zip archive (a local file header, or the
/// end record of an empty archive).
fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// Whether `bytes` start with a tar header whose checksum holds. All
/// tar dialects (v7, ustar, GNU, pax) share the checksum; a block of
/// zeros is not taken for an (empty) archive.
pub(crate) fn is_tar_header(bytes: &[u8]) -> bool {
    let Some(block) = bytes.get(..512) else { return false };
    let Some(expected) = block.get(148..156).and_then(parse_octal) else {
        return false;
    };
    let unsigned: u64 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| if (148..156).contains(&i) { 32 } else { u64::from(b) })
        .sum();
    let signed: i64 = block
        .iter()
        .enumerate()
        .map(
            |(i, &b)| {
                if (148..156).contains(&i) { 32 } else { i64::from(b as i8) }
            },
        )
        .sum();
    let zeros = 8 * 32;
    unsigned != zeros
        && (unsigned == expected || i64::try_from(expected) == Ok(signed))
}

/// Parses a tar octal field: optional spaces, digits, then a space or
/// NUL or the end.
fn parse_octal(field: &[u8]) -> Option<u64> {
    let text = field.iter().skip_while(|&&b| b == b' ');
    let mut value: u64 = 0;
    let mut digits = 0;
    for &b in text {
        match b {
            b'0'..=b'7' => {
                value = value.checked_mul(8)? + u64::from(b - b'0');
                digits += 1;
            }
            b' ' | 0 => break,
            _ => return None,
        }
    }
    (digits > 0).then_some(value)
}

/// Reads until `buf` is full or the source ends.
fn fill<R: Read>(mut source: R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn tar_bytes() -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(2);
        header.set_cksum();
        builder.append_data(&mut header, "a.py", &b"hi"[..]).unwrap();
        builder.into_inner().unwrap()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        );
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn tars_are_known_by_their_checksum() {
        assert_eq!(sniff(&tar_bytes()), Format::Tar);
        assert_eq!(sniff(&gzip(&tar_bytes())), Format::TarGz);
    }

    #[test]
    fn a_stream_broken_before_the_first_header_is_told_apart() {
        let whole = gzip(&tar_bytes());

        assert_eq!(broken_start(&whole), None);
        let reason = broken_start(&whole[..whole.len() / 3]).unwrap();
        assert_eq!(reason, "truncated gzip stream");
        assert_eq!(broken_start(b"plain text"), None);
    }

    #[test]
    fn a_lone_gzip_is_a_file() {
        assert_eq!(sniff(&gzip(b"print('hello')\n")), Format::File);
    }

    #[test]
    fn zeros_and_text_are_files() {
        assert_eq!(sniff(&[0u8; 1024]), Format::File);
        assert_eq!(sniff(b"PK but not a zip"), Format::File);
        assert_eq!(sniff(b""), Format::File);
    }

    #[test]
    fn zip_magic_wins_over_names() {
        assert_eq!(sniff(b"PK\x05\x06rest"), Format::Zip);
        assert_eq!(Format::from_name("x.tar.gz"), Some(Format::TarGz));
        assert_eq!(Format::from_name("X.WHL"), Some(Format::Zip));
        assert_eq!(Format::from_name("setup.py"), None);
    }

    #[test]
    fn octal_fields_tolerate_padding() {
        assert_eq!(parse_octal(b" 0001234\0"), Some(0o1234));
        assert_eq!(parse_octal(b"        "), None);
        assert_eq!(parse_octal(b"12x"), None);
    }
}
