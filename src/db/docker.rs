//! The docker target: one PostgreSQL container per run through testcontainers,
//! seeded like the embedded target, removed afterwards (on drop as well, so
//! also on error and Ctrl-C).

use testcontainers_modules::postgres::Postgres;
use testcontainers_modules::testcontainers::runners::AsyncRunner;
use testcontainers_modules::testcontainers::{ContainerAsync, ImageExt};

/// Image and tag of the container; the default is the official `postgres`
/// image of the suite's major version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerImage {
    pub name: String,
    pub tag: String,
}

/// Whether the engine has the image (None: the engine cannot be asked).
fn image_is_local(image: &DockerImage) -> Option<bool> {
    let engine = std::process::Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    if !engine.success() {
        return None;
    }
    let inspect = std::process::Command::new("docker")
        .args(["image", "inspect", &format!("{}:{}", image.name, image.tag)])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    Some(inspect.success())
}

pub struct DockerCluster {
    pub host: String,
    pub port: u16,
    pub image: DockerImage,
    container: Option<ContainerAsync<Postgres>>,
}

/// The password of the throwaway container; never a real credential.
pub const PASSWORD: &str = "assay";

impl DockerCluster {
    pub async fn start(image: &DockerImage) -> Result<DockerCluster, String> {
        let request = Postgres::default()
            .with_password(PASSWORD)
            .with_name(image.name.clone())
            .with_tag(image.tag.clone())
            .with_cmd(
                std::iter::once("postgres")
                    .chain(super::THROWAWAY_SETTINGS.iter().flat_map(|s| ["-c", *s])),
            )
            .with_startup_timeout(std::time::Duration::from_secs(120));
        let local = image_is_local(image);
        let container = request.start().await.map_err(|e| {
            let text = e.to_string();
            match local {
                Some(false) => format!(
                    "the image {}:{} is not on this machine and could not be pulled ({text}); \
                     build it locally with `docker/build-postgres-image.sh {}`, or choose another \
                     with --docker-image/--docker-tag",
                    image.name, image.tag, image.tag
                ),
                None => format!(
                    "the docker target needs a running Docker engine: {text}. \
                     Start Docker, or use the embedded default (no --target docker)"
                ),
                Some(true) => format!(
                    "cannot start container {}:{}: {text}",
                    image.name, image.tag
                ),
            }
        })?;
        let host = container
            .get_host()
            .await
            .map_err(|e| e.to_string())?
            .to_string();
        let port = container
            .get_host_port_ipv4(5432)
            .await
            .map_err(|e| e.to_string())?;
        Ok(DockerCluster {
            host: if host == "localhost" {
                "127.0.0.1".into()
            } else {
                host
            },
            port,
            image: image.clone(),
            container: Some(container),
        })
    }

    pub fn label(&self) -> String {
        format!(
            "docker {}:{} on {}:{}",
            self.image.name, self.image.tag, self.host, self.port
        )
    }

    /// Removes the container (also done on drop).
    pub async fn stop(mut self) {
        if let Some(c) = self.container.take() {
            let _ = c.rm().await;
        }
    }
}
