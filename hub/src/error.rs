//! The crate's error type: every variant names the repository and file it is about and says
//! what to do.

use std::path::PathBuf;

/// Errors from fetching files of a Hugging Face hub repository. `subject` reads like
/// "`model.safetensors` of model repository `timm/resnet50.a1_in1k` (revision `main`)".
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// Offline mode (`HF_HUB_OFFLINE=1`) and the file is not in the local cache.
    #[error(
        "{subject} is not in the Hugging Face cache {cache} and HF_HUB_OFFLINE is set, so it \
         cannot be downloaded; unset HF_HUB_OFFLINE on a machine with internet access, or \
         download it there (`{command}`) and copy the cache folder here (or point HF_HUB_CACHE / \
         HF_HOME at it)"
    )]
    NotCachedOffline {
        /// What was asked for.
        subject: String,
        /// The cache folder searched.
        cache: PathBuf,
        /// The `hf download` command that fetches it.
        command: String,
    },
    /// The hub answered that the repository, revision or file does not exist (or is gated and
    /// no token was given).
    #[error(
        "{subject} was not found on {endpoint}: {detail}; check the repository name, revision \
         and file name in the config; gated repositories (e.g. ILSVRC/imagenet-1k) also need an \
         access token in HF_TOKEN"
    )]
    NotFound {
        /// What was asked for.
        subject: String,
        /// The hub's endpoint.
        endpoint: String,
        /// The client's message.
        detail: String,
    },
    /// The hub could not be reached, or answered with an error, and the cache has no copy.
    #[error(
        "downloading {subject} from {endpoint} failed: {detail}; check the network (or \
         HF_ENDPOINT), or download it on a machine with internet access, copy the Hugging Face \
         cache here (HF_HUB_CACHE / HF_HOME) and set HF_HUB_OFFLINE=1"
    )]
    Download {
        /// What was asked for.
        subject: String,
        /// The hub's endpoint.
        endpoint: String,
        /// The client's message.
        detail: String,
    },
    /// A selection matched no file of the repository.
    #[error("no file matches: {subject}; the repository holds: {listing}")]
    NoMatch {
        /// What was asked for.
        subject: String,
        /// Some of the repository's files.
        listing: String,
    },
    /// The client could not be set up (bad `HF_ENDPOINT`, no TLS roots, ...).
    #[error("cannot set up the Hugging Face hub client: {0}")]
    Client(String),
    /// A repository name that is not `org/name`.
    #[error("`{0}` is not a hub repository name: expected `org/name`")]
    BadRepo(String),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, HubError>;
