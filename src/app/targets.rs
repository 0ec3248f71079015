//! The databases a command runs against, from its flags.

use crate::cli::{self, RunArgs};
use crate::db::{self, Database, TargetSpec};
use crate::error::AppError;
use crate::suite::Suite;

/// The databases `run` uses, from the flags (and DATABASE_URL for `--target url`).
pub(super) fn target_specs(args: &RunArgs, suite: &Suite) -> Result<Vec<TargetSpec>, AppError> {
    let target = match (args.target, args.database_urls.is_empty()) {
        (Some(t), true) => t,
        (None | Some(cli::TargetArg::Url), false) => cli::TargetArg::Url,
        (Some(_), false) => {
            return Err(AppError::Usage(
                "--database-url goes with --target url (or no --target)".into(),
            ))
        }
        (None, true) => cli::TargetArg::Embedded,
    };
    if target != cli::TargetArg::Docker
        && (args.docker_image.is_some() || args.docker_tag.is_some())
    {
        return Err(AppError::Usage(
            "--docker-image/--docker-tag go with --target docker".into(),
        ));
    }
    // A malformed URL is bad input, refused before anything connects.
    for u in &args.database_urls {
        db::url::options(u).map_err(AppError::Usage)?;
    }
    if target == cli::TargetArg::Url && args.database_urls.is_empty() {
        db::url::options(&std::env::var("DATABASE_URL").unwrap_or_default())
            .map_err(|e| AppError::Usage(format!("DATABASE_URL: {e}")))?;
    }
    if target == cli::TargetArg::Embedded {
        db::embedded::check_environment().map_err(AppError::Usage)?;
    }
    Ok(match target {
        cli::TargetArg::Embedded => vec![TargetSpec::Embedded],
        cli::TargetArg::Docker => vec![TargetSpec::Docker(db::docker::DockerImage {
            name: args
                .docker_image
                .clone()
                .unwrap_or_else(|| suite.config.docker_image.clone()),
            tag: args
                .docker_tag
                .clone()
                .unwrap_or_else(|| suite.config.docker_tag.clone()),
        })],
        cli::TargetArg::Url if !args.database_urls.is_empty() => args
            .database_urls
            .iter()
            .map(|u| TargetSpec::Url(u.clone()))
            .collect(),
        cli::TargetArg::Url => vec![TargetSpec::Url(
            std::env::var("DATABASE_URL").unwrap_or_default(),
        )],
    })
}

pub(super) async fn close_all(dbs: Vec<Database>) {
    for d in dbs {
        d.close().await;
    }
}
