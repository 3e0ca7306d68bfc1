//! `pki apply FILE --out DIR`: a whole test PKI from one file. The file is
//! checked in full and every output file named and checked first; then
//! every key is generated in parallel on every core, the certificates are
//! signed issuers first, every file is staged, and only then published.
//! A refused or failed run writes nothing (the directory included, when
//! it made it). Certificates with `issuer = "atlas"` are exactly what
//! `certs create` issues: planned with Atlas's checks, signed by the
//! project's CA and recorded in its ledger in one transaction, after every
//! other file is staged and before any is published; the rest of the PKI
//! is not Atlas's and is not recorded.

use std::path::Path;

use rayon::prelude::*;
use time::OffsetDateTime;

use super::outputs::{check_outputs, create_dirs, create_parents, remove_made};
use super::pki_make::{Output, make};
use super::pki_renew::{kept_atlas_keys, kept_keys};
use super::pki_spec::{AtlasLeaf, Plan, Reproduce, file_names, plan, plan_with, text_of};
use crate::api::{CreateCert, Error, validate_create};
use crate::issuing::{self, Fresh, IssueRequest, Signed};
use crate::pki::Authority;
use crate::store::files::{Dir, Staged, claim_output_dir, read_input};
use crate::store::{Home, Registry};

/// What `pki apply` wrote.
#[derive(Debug)]
pub struct Applied {
    /// The certificates made, by name, in issuer order.
    pub certificates: Vec<String>,
    /// Each certificate's issuer, as an index into `certificates`
    /// (`None`: self-signed).
    pub issuers: Vec<Option<usize>>,
    /// The CRLs made, by name.
    pub crls: Vec<String>,
    /// Every file written, relative to the output directory.
    pub files: Vec<String>,
    /// Made from a seed: anyone with the file and the seed can make the
    /// same private keys.
    pub seeded: bool,
}

/// What a PKI file declares, checked: how many certificates (Atlas's
/// among them), CRLs and bundles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declared {
    /// Certificates of the test PKI's own CAs.
    pub certificates: usize,
    /// Certificates exactly as `certs create` issues them.
    pub atlas: usize,
    /// CRLs.
    pub crls: usize,
    /// Bundles.
    pub bundles: usize,
}

/// Checks the PKI file text `text` (named `path` in errors) as `apply`
/// does before it makes anything, without a home: Atlas's own checks of
/// `issuer = "atlas"` tables need the registry and run only in `apply`.
pub fn check(path: &Path, text: &str) -> Result<Declared, Error> {
    let plan = plan(path, text, OffsetDateTime::now_utc())?;
    Ok(Declared {
        certificates: plan.certs.len(),
        atlas: plan.atlas.len(),
        crls: plan.crls.len(),
        bundles: plan.bundles.len(),
    })
}

/// How `apply` treats the directory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Mode {
    /// Replace files that are there.
    pub force: bool,
    /// Make every file again, keeping the private keys there.
    pub renew: bool,
    /// Plan only: every check runs, nothing is made or written.
    pub dry_run: bool,
}

/// Applies the PKI file at `file` to `out` (replacing files there only
/// with `mode.force`), with `home`'s projects for Atlas's certificates.
/// With `mode.renew`, every file is made again with fresh dates, and every
/// private key the directory already holds is kept (read with the file's
/// passwords); one that cannot be read refuses the run first.
/// With a seed (the file's or `given`'s), every key, serial, salt and
/// signature is the seed's: the same bytes on every run. `progress` hears
/// (keys made, keys to make).
pub fn apply(
    home: &Home,
    file: &Path,
    out: &Path,
    mode: Mode,
    given: &Reproduce,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Applied, Error> {
    let Mode {
        force,
        renew,
        dry_run,
    } = mode;
    let bytes = read_input(file).map_err(Error::io(file))?;
    let text = text_of(file, bytes)?;
    let plan = plan_with(file, &text, OffsetDateTime::now_utc(), given)?;
    let (digested, digest_names) = (plan.digested(), plan.digest_names());
    let Plan {
        certs: planned,
        atlas,
        crls,
        bundles,
        seed,
        ..
    } = plan;
    // The registry only when the file has Atlas certificates: a test PKI
    // alone needs no home.
    let registry = (!atlas.is_empty()).then(|| home.registry()).transpose()?;
    let atlas_requests: Vec<CreateCert> = atlas
        .iter()
        .map(|a| {
            let mut req = CreateCert::new(&a.project, &a.username);
            req.months_until_expiration = a.months;
            req.key_type = a.key_type;
            req
        })
        .collect();
    let atlas_plan = match &registry {
        Some(registry) => plan_atlas(home, registry, &atlas_requests)?,
        None => None,
    };
    let mut names: Vec<String> = planned.iter().flat_map(file_names).collect();
    names.extend(atlas.iter().map(|a| format!("{}.pem", a.name)));
    names.extend(crls.iter().map(|c| format!("{}.pem", c.file)));
    names.extend(bundles.iter().map(|b| format!("{}.pem", b.file)));
    names.extend(digest_names);
    let force = force || renew;
    check_outputs(out, &names, force)?;
    let (kept, atlas_kept) = if renew {
        (
            kept_keys(out, &planned, &bundles)?,
            kept_atlas_keys(out, &atlas)?,
        )
    } else {
        (planned.iter().map(|_| None).collect(), Vec::new())
    };
    // The plan alone: every check has run (kept keys read too), nothing is made or written.
    if dry_run {
        return Ok(Applied {
            issuers: planned.iter().map(|p| p.issuer).collect(),
            certificates: planned.into_iter().map(|p| p.name).collect(),
            crls: crls.into_iter().map(|c| c.name).collect(),
            files: names,
            seeded: seed.is_some(),
        });
    }
    let outputs = make(
        &planned,
        &crls,
        &bundles,
        seed.as_ref(),
        &kept,
        &digested,
        progress,
    )?;
    let atlas_signed = match &atlas_plan {
        Some((gid, requests)) => {
            let (authority, _) = home.project_ca(gid)?;
            let signed = requests
                .par_iter()
                .enumerate()
                .map(|(i, r)| match atlas_kept.get(i) {
                    Some(kept) => issuing::sign(&authority, r, kept),
                    None => issuing::sign(&authority, r, &Fresh),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Some((authority, signed))
        }
        None => None,
    };
    let mut made = create_dirs(out)?;
    let _claim = match claim_output_dir(out) {
        Ok(claim) => claim,
        Err(e) => {
            remove_made(&made);
            return Err(Error::io(out)(e));
        }
    };
    let parents: Vec<String> = outputs.iter().map(|o| o.name.clone()).collect();
    match create_parents(out, &parents) {
        Ok(more) => made.extend(more),
        Err(e) => {
            remove_made(&made);
            return Err(e);
        }
    }
    let written = stage_and_publish(home, out, &outputs, &atlas, atlas_signed, force);
    if written.is_err() {
        remove_made(&made);
    }
    written?;
    Ok(Applied {
        issuers: planned.iter().map(|p| p.issuer).collect(),
        certificates: planned.into_iter().map(|p| p.name).collect(),
        crls: crls.into_iter().map(|c| c.name).collect(),
        files: outputs
            .into_iter()
            .map(|o| o.name)
            .chain(atlas.iter().map(|a| format!("{}.pem", a.name)))
            .collect(),
        seeded: seed.is_some(),
    })
}

/// Atlas's checks for every Atlas certificate of the file, counted per
/// user against the limit; the spec has made sure they are all of one
/// project, so that their rows commit in one transaction. `None` when the
/// file has none.
fn plan_atlas<'r>(
    home: &Home,
    registry: &'r Registry,
    requests: &[CreateCert],
) -> Result<Option<(String, Vec<IssueRequest<'r>>)>, Error> {
    let Some(first) = requests.first() else {
        return Ok(None);
    };
    let planned = requests
        .iter()
        .map(|r| {
            let count = requests.iter().filter(|o| o.username == r.username).count();
            // Lossless in practice: a file holds far fewer than 2^32 tables.
            validate_create(home, registry, r, u32::try_from(count).unwrap_or(u32::MAX))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some((first.group_id.clone(), planned)))
}

/// Stages every output, commits the Atlas certificates' rows (staging
/// their files inside the transaction), then publishes every file and
/// syncs once.
fn stage_and_publish(
    home: &Home,
    out: &Path,
    outputs: &[Output],
    atlas: &[AtlasLeaf],
    atlas_signed: Option<(Authority, Vec<Signed<'_>>)>,
    force: bool,
) -> Result<(), Error> {
    let dir = Dir::new(out, home.notes());
    let stage = |name: &str, bytes: &[u8], private: bool| {
        let mode = if private { 0o600 } else { 0o644 };
        dir.stage(Path::new(name), bytes, mode, false)
            .map_err(Error::io(out.join(name)))
    };
    let mut staged = outputs
        .iter()
        .map(|o| stage(&o.name, &o.bytes, o.private))
        .collect::<Result<Vec<Staged>, _>>()?;
    if let Some((authority, signed)) = atlas_signed {
        let recorded = home.with_ledger(|ledger| {
            issuing::commit(&authority, ledger, signed, |i, issued| {
                stage(
                    &format!("{}.pem", atlas[i].name),
                    issued.pem.as_bytes(),
                    true,
                )
            })
        })?;
        staged.extend(recorded.into_iter().map(|(_, file)| file));
    }
    for file in staged {
        let target = file.target().to_path_buf();
        file.publish_or_keep(force).map_err(Error::io(target))?;
    }
    dir.sync_filesystem().map_err(Error::io(out))
}
