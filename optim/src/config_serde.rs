//! Deserialising the configs whose learning rate has no default (feature `serde`).
//!
//! `torch.optim.SGD` and `adamp.SGDP` require `lr`, so [`SgdConfig`] and [`SgdpConfig`] have no
//! `Default`. They are read through the key sets below: `lr` required, every other key optional
//! and filled from the config's `new(lr)` — the one place their defaults are written. Unknown keys
//! are rejected. (Adam, AdamW and AdamP take their missing keys from `Default`.)

use serde::Deserialize;

use crate::{SgdConfig, SgdpConfig};

/// The keys of an [`SgdConfig`] as written in a config file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SgdKeys {
    lr: f64,
    momentum: Option<f64>,
    dampening: Option<f64>,
    weight_decay: Option<f64>,
    nesterov: Option<bool>,
}

impl From<SgdKeys> for SgdConfig {
    fn from(k: SgdKeys) -> Self {
        let d = SgdConfig::new(k.lr);
        SgdConfig {
            lr: k.lr,
            momentum: k.momentum.unwrap_or(d.momentum),
            dampening: k.dampening.unwrap_or(d.dampening),
            weight_decay: k.weight_decay.unwrap_or(d.weight_decay),
            nesterov: k.nesterov.unwrap_or(d.nesterov),
        }
    }
}

/// The keys of an [`SgdpConfig`] as written in a config file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SgdpKeys {
    lr: f64,
    momentum: Option<f64>,
    dampening: Option<f64>,
    weight_decay: Option<f64>,
    nesterov: Option<bool>,
    eps: Option<f64>,
    delta: Option<f64>,
    wd_ratio: Option<f64>,
}

impl From<SgdpKeys> for SgdpConfig {
    fn from(k: SgdpKeys) -> Self {
        let d = SgdpConfig::new(k.lr);
        SgdpConfig {
            lr: k.lr,
            momentum: k.momentum.unwrap_or(d.momentum),
            dampening: k.dampening.unwrap_or(d.dampening),
            weight_decay: k.weight_decay.unwrap_or(d.weight_decay),
            nesterov: k.nesterov.unwrap_or(d.nesterov),
            eps: k.eps.unwrap_or(d.eps),
            delta: k.delta.unwrap_or(d.delta),
            wd_ratio: k.wd_ratio.unwrap_or(d.wd_ratio),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{AdamConfig, AdamPConfig, AdamWConfig, OptimizerConfig, SgdConfig, SgdpConfig};

    fn parse(json: &str) -> Result<OptimizerConfig, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn missing_keys_take_the_references_defaults() {
        assert_eq!(
            parse(r#"{"kind": "sgdp", "lr": 0.1}"#).unwrap(),
            OptimizerConfig::Sgdp(SgdpConfig::new(0.1))
        );
        assert_eq!(
            parse(r#"{"kind": "sgd", "lr": 0.1, "momentum": 0.9}"#).unwrap(),
            OptimizerConfig::Sgd(SgdConfig {
                momentum: 0.9,
                ..SgdConfig::new(0.1)
            })
        );
        assert_eq!(
            parse(r#"{"kind": "adam"}"#).unwrap(),
            OptimizerConfig::Adam(AdamConfig::default())
        );
        // AdamW's default decay (1e-2) differs from Adam's (0): each config keeps its own.
        let OptimizerConfig::AdamW(w) = parse(r#"{"kind": "adamw", "lr": 0.01}"#).unwrap() else {
            panic!("not adamw")
        };
        assert_eq!(w.weight_decay, AdamWConfig::default().weight_decay);
        assert_eq!(w.weight_decay, 1e-2);
        assert_eq!(
            parse(r#"{"kind": "adamp", "delta": 0.2}"#).unwrap(),
            OptimizerConfig::AdamP(AdamPConfig {
                delta: 0.2,
                ..AdamPConfig::default()
            })
        );
    }

    #[test]
    fn unknown_keys_a_missing_lr_and_unknown_kinds_are_rejected() {
        assert!(parse(r#"{"kind": "sgdp", "lr": 0.1, "momentun": 0.9}"#)
            .unwrap_err()
            .contains("momentun"));
        assert!(parse(r#"{"kind": "adamp", "betas": [0.9, 0.99]}"#)
            .unwrap_err()
            .contains("betas"));
        assert!(parse(r#"{"kind": "sgd"}"#).unwrap_err().contains("lr"));
        assert!(parse(r#"{"kind": "adamq"}"#).unwrap_err().contains("adamq"));
    }

    #[test]
    fn a_config_survives_a_round_trip_with_every_key_written() {
        let c = OptimizerConfig::Sgdp(SgdpConfig {
            momentum: 0.9,
            nesterov: true,
            ..SgdpConfig::new(0.1)
        });
        let text = serde_json::to_string(&c).unwrap();
        for key in ["\"kind\":\"sgdp\"", "eps", "delta", "wd_ratio", "dampening"] {
            assert!(text.contains(key), "{key} in {text}");
        }
        assert_eq!(parse(&text).unwrap(), c);
    }

    #[test]
    fn range_errors_name_the_config_key() {
        let c = parse(r#"{"kind": "adamp", "beta2": 1.5}"#).unwrap();
        let (key, message) = c.check_keys().unwrap_err();
        assert_eq!(key, "beta2");
        assert!(
            message.contains("[0, 1)") && message.contains("1.5"),
            "{message}"
        );
    }
}
