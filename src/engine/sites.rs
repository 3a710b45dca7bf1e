//! The placeholders of the documents as the scan leaves them for filling, packed.
//!
//! A large stream has a placeholder in every other document, and everything about them is
//! held from the scan until the output is assembled. So they take no allocation of their own:
//! each piece of a stream parsed on one thread is scanned into one [`SitesTable`] (one text
//! holds the strings: field paths, keys, literal texts; fixed-size records point into it),
//! and a document's [`Sites`] are ranges of its piece's table. A scanned string that is
//! written in the stream as it reads (most are: plain, or quoted without escapes) is not
//! copied: the records point into the stream. Readers see them through [`Site`] and
//! [`Resolved`], which borrow the table and the stream.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use crate::placeholder::modifier::Modifier;
use crate::placeholder::secret_ref::SecretRef;
use crate::yaml::ScalarStyle;

/// How a filled string is written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// As is.
    AsIs,
    /// Base64 (a Secret `data` value whose decoded text held the placeholders).
    Base64,
}

/// The sites of the documents of one piece of a stream, built by a [`SitesBuilder`].
#[derive(Debug, Default)]
pub(crate) struct SitesTable {
    /// Every string the records point into.
    text: String,
    sites: Vec<SiteRecord>,
    lookups: Vec<LookupRecord>,
    /// The modifiers of every placeholder (few have any).
    modifiers: Vec<Modifier>,
    /// Each document's distinct secrets, in the order first read, one range per document.
    /// Documents read the same secrets over and over: each is held once per piece.
    secrets: Vec<Arc<SecretRef>>,
}

/// The sites of one document, and the distinct secrets they read: ranges of its piece's
/// table.
#[derive(Debug, Default)]
pub struct Sites {
    table: Arc<SitesTable>,
    sites: Range<u32>,
    secrets: Range<u32>,
}

/// What the scan of one document leaves until its piece's table is complete (see
/// [`PendingSites::within`]).
#[derive(Debug, Default, Clone)]
pub(crate) struct PendingSites {
    sites: Range<u32>,
    secrets: Range<u32>,
}

impl PendingSites {
    /// Whether no scalar holds a placeholder.
    pub(crate) fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }

    /// The sites, once `table` is the table they were built into.
    pub(crate) fn within(self, table: &Arc<SitesTable>) -> Sites {
        Sites {
            table: Arc::clone(table),
            sites: self.sites,
            secrets: self.secrets,
        }
    }
}

/// A byte range of [`SitesTable::text`], or of the stream when both ends have [`IN_STREAM`] set.
type TextSpan = Range<u32>;

/// The mark of a [`TextSpan`] in the stream rather than in the table's text: the top bit,
/// which neither's offsets reach (see [`TooLarge`]).
const IN_STREAM: u32 = 1 << 31;

/// A byte range of the stream. Inputs and tools' outputs are read up to
/// [`crate::engine::source::RUN_CAP`], far below 4 GiB; a site beyond would be refused with
/// [`TooLarge`].
type StreamSpan = Range<u32>;

#[derive(Debug)]
struct SiteRecord {
    /// The scalar's span in the stream.
    span: StreamSpan,
    /// The span of the key of its entry, when `remove-missing` lets the entry be dropped.
    removable_key: Option<StreamSpan>,
    /// Field path for messages.
    field: TextSpan,
    /// Its placeholders: a range of [`SitesTable::lookups`].
    lookups: Range<u32>,
    /// The literal text after the last placeholder.
    after: TextSpan,
    style: ScalarStyle,
    encoding: Encoding,
    string_only: bool,
    base64_field: bool,
}

#[derive(Debug)]
struct LookupRecord {
    /// The placeholder as written, `<` to `>`.
    written: TextSpan,
    /// The literal text between the previous placeholder (or the start) and this one.
    before: TextSpan,
    key: TextSpan,
    /// A range of [`SitesTable::modifiers`].
    modifiers: Range<u32>,
    /// Index in [`Sites::secrets`].
    secret: u32,
    generic: bool,
}

impl Sites {
    /// How many scalars hold placeholders.
    pub fn len(&self) -> usize {
        self.sites.len()
    }

    /// Whether no scalar holds a placeholder.
    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }

    /// The sites, in document order; `stream` is the text the document was scanned in.
    pub fn iter<'t>(&'t self, stream: &'t str) -> impl Iterator<Item = Site<'t>> {
        let table = &*self.table;
        table.sites[widen(&self.sites)]
            .iter()
            .map(move |record| Site {
                table,
                record,
                stream,
            })
    }

    /// The distinct secrets the sites read.
    pub fn secrets(&self) -> impl ExactSizeIterator<Item = &SecretRef> {
        self.table.secrets[widen(&self.secrets)]
            .iter()
            .map(|secret| &**secret)
    }
}

impl SitesTable {
    fn text<'t>(&'t self, stream: &'t str, span: &TextSpan) -> &'t str {
        if span.start & IN_STREAM != 0 {
            &stream[(span.start & !IN_STREAM) as usize..(span.end & !IN_STREAM) as usize]
        } else {
            &self.text[span.start as usize..span.end as usize]
        }
    }
}

/// A scalar that holds placeholders: all that filling it needs, without the document's tree.
#[derive(Debug, Clone, Copy)]
pub struct Site<'t> {
    table: &'t SitesTable,
    record: &'t SiteRecord,
    stream: &'t str,
}

impl<'t> Site<'t> {
    /// Field path for messages: `spec.template.spec.containers[0].env[1].value`.
    pub fn field(&self) -> &'t str {
        self.table.text(self.stream, &self.record.field)
    }

    /// The scalar's span in the stream.
    pub fn span(&self) -> Range<usize> {
        widen(&self.record.span)
    }

    /// How the scalar was written.
    pub fn style(&self) -> ScalarStyle {
        self.record.style
    }

    /// The span of the key of its entry, when `remove-missing` lets the entry be dropped.
    pub fn removable_key(&self) -> Option<Range<usize>> {
        self.record.removable_key.as_ref().map(widen)
    }

    /// How the result is written back.
    pub fn encoding(&self) -> Encoding {
        self.record.encoding
    }

    /// The field only takes text (Secret and ConfigMap data): typed values become text.
    pub fn string_only(&self) -> bool {
        self.record.string_only
    }

    /// The field is a Secret's `data`, which Kubernetes reads as base64: a value written as
    /// is must be base64 already.
    pub fn base64_field(&self) -> bool {
        self.record.base64_field
    }

    /// Its placeholders, in order.
    pub fn lookups(&self) -> impl ExactSizeIterator<Item = Resolved<'t>> + use<'t> {
        let (table, stream) = (self.table, self.stream);
        let range = self.record.lookups.start as usize..self.record.lookups.end as usize;
        table.lookups[range].iter().map(move |record| Resolved {
            table,
            record,
            stream,
        })
    }

    /// The literal text after the last placeholder.
    pub fn text_after(&self) -> &'t str {
        self.table.text(self.stream, &self.record.after)
    }

    /// How messages name one of this site's placeholders in the manifest placed at `manifest`.
    pub fn place(&self, manifest: &str, lookup: &Resolved<'_>) -> String {
        format!("{manifest}: {}: {}", self.field(), lookup.written())
    }
}

/// A placeholder of a [`Site`], resolved by the scan.
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'t> {
    table: &'t SitesTable,
    record: &'t LookupRecord,
    stream: &'t str,
}

impl<'t> Resolved<'t> {
    /// The placeholder as written, `<` to `>`.
    pub fn written(&self) -> &'t str {
        self.table.text(self.stream, &self.record.written)
    }

    /// The literal text before it (after the previous placeholder of its site).
    pub fn text_before(&self) -> &'t str {
        self.table.text(self.stream, &self.record.before)
    }

    /// The key inside the secret.
    pub fn key(&self) -> &'t str {
        self.table.text(self.stream, &self.record.key)
    }

    /// Modifiers in the order written.
    pub fn modifiers(&self) -> &'t [Modifier] {
        &self.table.modifiers[widen(&self.record.modifiers)]
    }

    /// The secret.
    pub fn secret(&self) -> &'t SecretRef {
        &self.table.secrets[self.record.secret as usize]
    }

    /// A generic `<key>` (found only in manifests with a `path` annotation), which may have
    /// been meant as literal text.
    pub fn generic(&self) -> bool {
        self.record.generic
    }
}

/// What a site is, besides its strings and placeholders.
#[derive(Debug, Clone)]
pub(crate) struct SiteFacts {
    /// The scalar's span in the stream.
    pub span: Range<usize>,
    /// See [`Site::style`].
    pub style: ScalarStyle,
    /// See [`Site::removable_key`].
    pub removable_key: Option<Range<usize>>,
    /// See [`Site::encoding`].
    pub encoding: Encoding,
    /// See [`Site::string_only`].
    pub string_only: bool,
    /// See [`Site::base64_field`].
    pub base64_field: bool,
}

/// A placeholder as [`SitesBuilder::site`] takes it.
#[derive(Debug)]
pub(crate) struct NewLookup {
    /// Byte range of the placeholder, `<` to `>`, in the scanned string.
    pub span: Range<usize>,
    /// The literal text before it, when escapes (`\<`) make it differ from the scanned text
    /// there; `None` when it is that text.
    pub before: Option<String>,
    /// The key inside the secret.
    pub key: String,
    /// Modifiers in the order written.
    pub modifiers: Vec<Modifier>,
    /// The secret.
    pub secret: SecretRef,
    /// See [`Resolved::generic`].
    pub generic: bool,
}

/// Builds the table of the documents of one piece of a stream, document after document:
/// [`SitesBuilder::site`] for each site of a document, then [`SitesBuilder::end_document`];
/// [`SitesBuilder::seal`] when the piece is scanned.
#[derive(Debug, Default)]
pub(crate) struct SitesBuilder {
    table: SitesTable,
    /// Where the current document's sites and secrets start.
    document_sites: u32,
    document_secrets: u32,
    /// The current document's secrets, indexed once it reads many.
    secret_index: BTreeMap<SecretRef, u32>,
    /// Every secret the documents built so far read, so that the documents share them.
    shared: HashSet<Arc<SecretRef>>,
}

/// The error of a site that does not fit the packed table's 32-bit offsets: at 4 GiB into
/// the stream, or with 2 GiB of placeholder text in one piece of it.
#[derive(Debug)]
pub(crate) struct TooLarge;

impl SitesBuilder {
    /// Adds a site: its field path, the string its placeholders were found in, and each of
    /// them; `after` is the literal text after the last when escapes make it differ from the
    /// scanned text. `scanned_at` is where the stream holds `scanned` as it is, if it does:
    /// then it is not copied.
    pub(crate) fn site(
        &mut self,
        facts: SiteFacts,
        field: &str,
        scanned: &str,
        scanned_at: Option<usize>,
        lookups: Vec<NewLookup>,
        after: Option<String>,
    ) -> Result<(), TooLarge> {
        let field = self.push_text(field)?;
        let in_stream = scanned_at
            .and_then(|at| Some((u32::try_from(at).ok()?, u32::try_from(scanned.len()).ok()?)))
            .filter(|(at, len)| at.checked_add(*len).is_some_and(|end| end < IN_STREAM));
        let base = match in_stream {
            Some((at, _)) => at | IN_STREAM,
            None => self.push_text(scanned)?.start,
        };
        let first = index(self.table.lookups.len())?;
        let mut previous_end = 0;
        for lookup in lookups {
            let in_scanned = |range: Range<usize>| -> Result<TextSpan, TooLarge> {
                Ok(offset(base, range.start)?..offset(base, range.end)?)
            };
            let written = in_scanned(lookup.span.clone())?;
            let before = match &lookup.before {
                Some(text) => self.push_text(text)?,
                None => in_scanned(previous_end..lookup.span.start)?,
            };
            // The key is usually spelled out inside the placeholder: point there.
            let key = match scanned[lookup.span.clone()].find(lookup.key.as_str()) {
                Some(at) => {
                    let start = lookup.span.start + at;
                    in_scanned(start..start + lookup.key.len())?
                }
                None => self.push_text(&lookup.key)?,
            };
            let secret = self.secret(lookup.secret)?;
            previous_end = lookup.span.end;
            let modifiers_from = index(self.table.modifiers.len())?;
            self.table.modifiers.extend(lookup.modifiers);
            self.table.lookups.push(LookupRecord {
                written,
                before,
                key,
                modifiers: modifiers_from..index(self.table.modifiers.len())?,
                secret,
                generic: lookup.generic,
            });
        }
        let after = match after {
            Some(text) => self.push_text(&text)?,
            None => offset(base, previous_end)?..offset(base, scanned.len())?,
        };
        self.table.sites.push(SiteRecord {
            span: narrow(facts.span)?,
            removable_key: facts.removable_key.map(narrow).transpose()?,
            field,
            lookups: first..index(self.table.lookups.len())?,
            after,
            style: facts.style,
            encoding: facts.encoding,
            string_only: facts.string_only,
            base64_field: facts.base64_field,
        });
        Ok(())
    }

    /// Ends the current document: its sites and secrets, as ranges of the table to come.
    pub(crate) fn end_document(&mut self) -> PendingSites {
        self.secret_index.clear();
        // The table's lengths fit: every record was indexed with `index` when added.
        let sites = self.document_sites..self.table.sites.len() as u32;
        let secrets = self.document_secrets..self.table.secrets.len() as u32;
        self.document_sites = sites.end;
        self.document_secrets = secrets.end;
        PendingSites { sites, secrets }
    }

    /// The table of every document ended so far, each part at its exact size.
    pub(crate) fn seal(self) -> Arc<SitesTable> {
        let mut table = self.table;
        table.text.shrink_to_fit();
        table.sites.shrink_to_fit();
        table.lookups.shrink_to_fit();
        table.modifiers.shrink_to_fit();
        table.secrets.shrink_to_fit();
        Arc::new(table)
    }

    fn push_text(&mut self, text: &str) -> Result<TextSpan, TooLarge> {
        let start = index(self.table.text.len())?;
        self.table.text.push_str(text);
        let end = index(self.table.text.len())?;
        if end >= IN_STREAM {
            return Err(TooLarge);
        }
        Ok(start..end)
    }

    /// The index in the table of `secret` among the current document's secrets, added if it
    /// is new to the document.
    fn secret(&mut self, secret: SecretRef) -> Result<u32, TooLarge> {
        let first = self.document_secrets as usize;
        let known = &self.table.secrets[first..];
        // A document reads few secrets: a scan of them costs less than a map. The map is built
        // only for a document that reads many.
        if known.len() < INDEX_FROM {
            if let Some(at) = known.iter().position(|s| **s == secret) {
                return index(first + at);
            }
        } else {
            if self.secret_index.is_empty() {
                for (at, known) in known.iter().enumerate() {
                    self.secret_index
                        .insert(SecretRef::clone(known), index(first + at)?);
                }
            }
            if let Some(&at) = self.secret_index.get(&secret) {
                return Ok(at);
            }
            self.secret_index
                .insert(secret.clone(), index(self.table.secrets.len())?);
        }
        let at = index(self.table.secrets.len())?;
        let shared = match self.shared.get(&secret) {
            Some(shared) => Arc::clone(shared),
            None => {
                let shared = Arc::new(secret);
                self.shared.insert(Arc::clone(&shared));
                shared
            }
        };
        self.table.secrets.push(shared);
        Ok(at)
    }
}

/// How many distinct secrets a document reads before [`SitesBuilder::secret`] indexes them.
const INDEX_FROM: usize = 16;

fn index(n: usize) -> Result<u32, TooLarge> {
    u32::try_from(n).map_err(|_| TooLarge)
}

fn narrow(span: Range<usize>) -> Result<Range<u32>, TooLarge> {
    Ok(index(span.start)?..index(span.end)?)
}

fn widen(span: &Range<u32>) -> Range<usize> {
    span.start as usize..span.end as usize
}

fn offset(base: u32, at: usize) -> Result<u32, TooLarge> {
    index(at)?.checked_add(base).ok_or(TooLarge)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placeholder::secret_ref::KvVersion;

    fn facts() -> SiteFacts {
        SiteFacts {
            span: 10..30,
            style: ScalarStyle::Plain,
            removable_key: None,
            encoding: Encoding::AsIs,
            string_only: false,
            base64_field: false,
        }
    }

    fn secret(path: &str) -> SecretRef {
        SecretRef {
            path: path.into(),
            version: None,
            kv: KvVersion::V2,
        }
    }

    fn lookup(span: Range<usize>, key: &str, path: &str) -> NewLookup {
        NewLookup {
            span,
            before: None,
            key: key.into(),
            modifiers: Vec::new(),
            secret: secret(path),
            generic: false,
        }
    }

    /// Builds the two sites of `strings_read_back_as_given_from_the_table_or_the_stream`, the
    /// first with its scanned string at `scanned_at` of the stream (or copied).
    fn two_sites(scanned_at: Option<usize>) -> Sites {
        let mut builder = SitesBuilder::default();
        let scanned = "x=<path:a#k> and <path:b#kk>!";
        let lookups = vec![lookup(2..12, "k", "a"), lookup(17..28, "kk", "b")];
        builder
            .site(facts(), "data.x", scanned, scanned_at, lookups, None)
            .expect("fits");
        let spaced = NewLookup {
            before: Some("<".into()),
            key: "not written".into(),
            ..lookup(2..12, "", "a")
        };
        builder
            .site(
                facts(),
                "data.y",
                "\\<<path:a#k>",
                None,
                vec![spaced],
                Some(">".into()),
            )
            .expect("fits");
        let pending = builder.end_document();
        pending.within(&builder.seal())
    }

    #[test]
    fn strings_read_back_as_given_from_the_table_or_the_stream() {
        let stream = "data: {x: x=<path:a#k> and <path:b#kk>!}";
        for (sites, stream) in [(two_sites(None), ""), (two_sites(Some(10)), stream)] {
            assert_eq!(
                sites.secrets().cloned().collect::<Vec<_>>(),
                [secret("a"), secret("b")]
            );
            let all: Vec<_> = sites.iter(stream).collect();
            assert_eq!(all.len(), 2);
            assert_eq!(all[0].field(), "data.x");
            let first: Vec<_> = all[0]
                .lookups()
                .map(|l| {
                    (
                        l.text_before(),
                        l.written(),
                        l.key(),
                        l.secret().path.as_str(),
                    )
                })
                .collect();
            assert_eq!(
                first,
                [
                    ("x=", "<path:a#k>", "k", "a"),
                    (" and ", "<path:b#kk>", "kk", "b")
                ]
            );
            assert_eq!(all[0].text_after(), "!");
            let second: Vec<_> = all[1]
                .lookups()
                .map(|l| (l.text_before(), l.key(), l.secret().path.as_str()))
                .collect();
            assert_eq!(second, [("<", "not written", "a")]);
            assert_eq!(all[1].text_after(), ">");
        }
        // Only the copied string takes room in the table.
        assert!(two_sites(Some(10)).table.text.len() < two_sites(None).table.text.len());
    }

    #[test]
    fn documents_keep_their_own_distinct_secrets_and_share_their_copies() {
        let mut builder = SitesBuilder::default();
        let mut pending = Vec::new();
        for _ in 0..2 {
            for n in 0..(INDEX_FROM * 3) {
                let path = format!("p{}", n % (INDEX_FROM * 2));
                builder
                    .site(
                        facts(),
                        "f",
                        "<x>",
                        None,
                        vec![lookup(0..3, "x", &path)],
                        None,
                    )
                    .expect("fits");
            }
            pending.push(builder.end_document());
        }
        let table = builder.seal();
        let documents: Vec<Sites> = pending.into_iter().map(|p| p.within(&table)).collect();
        for (round, sites) in documents.iter().enumerate() {
            assert_eq!(sites.len(), INDEX_FROM * 3, "document {round}");
            assert_eq!(sites.secrets().len(), INDEX_FROM * 2, "document {round}");
            for (n, site) in sites.iter("").enumerate() {
                let read = site.lookups().next().expect("one placeholder");
                assert_eq!(read.secret().path, format!("p{}", n % (INDEX_FROM * 2)));
            }
        }
        let first: Vec<_> = documents[0].secrets().collect();
        let second: Vec<_> = documents[1].secrets().collect();
        assert!(
            first.iter().zip(&second).all(|(a, b)| std::ptr::eq(*a, *b)),
            "one copy of each secret"
        );
    }
}
