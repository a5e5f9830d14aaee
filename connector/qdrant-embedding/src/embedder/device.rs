//! `embedding.device` and `embedding.precision`.

use std::fmt;
use std::str::FromStr;

/// Where inference runs, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceSpec {
    /// CUDA device 0 when libtorch sees one, else the CPU.
    Auto,
    Cpu,
    Cuda(usize),
}

impl FromStr for DeviceSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" | "" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda(0)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Self::Cuda)
                .ok_or_else(|| {
                    format!("unknown embedding.device '{s}': use auto, cpu, cuda or cuda:N")
                }),
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => write!(f, "auto"),
            Self::Cpu => write!(f, "cpu"),
            Self::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// A configured CUDA device that libtorch does not see.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("embedding.device is cuda:{0} but libtorch sees no CUDA device")]
    NoCuda(usize),
    #[error("embedding.device is cuda:{wanted} but only {count} CUDA device(s) exist")]
    NoSuchDevice { wanted: usize, count: usize },
}

impl DeviceSpec {
    /// The device to run on; an unavailable CUDA device is an error, not a
    /// silent fallback, so a misconfigured GPU host is noticed.
    pub fn resolve(self) -> Result<tch::Device, DeviceError> {
        match self {
            Self::Cpu => Ok(tch::Device::Cpu),
            Self::Auto => Ok(if tch::Cuda::is_available() {
                tch::Device::Cuda(0)
            } else {
                tch::Device::Cpu
            }),
            Self::Cuda(n) => {
                let count = tch::Cuda::device_count() as usize;
                if n < count {
                    Ok(tch::Device::Cuda(n))
                } else if count == 0 {
                    Err(DeviceError::NoCuda(n))
                } else {
                    Err(DeviceError::NoSuchDevice { wanted: n, count })
                }
            }
        }
    }
}

/// Numeric precision of the forward pass.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// fp16 on CUDA; on a CPU bf16 where it has bf16 units, else fp32.
    #[default]
    Auto,
    Fp32,
    Fp16,
    Bf16,
}

impl FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" | "" => Ok(Self::Auto),
            "fp32" | "float32" => Ok(Self::Fp32),
            "fp16" | "float16" | "half" => Ok(Self::Fp16),
            "bf16" | "bfloat16" => Ok(Self::Bf16),
            _ => Err(format!(
                "unknown embedding.precision '{s}': use auto, fp32, fp16 or bf16"
            )),
        }
    }
}

impl Precision {
    /// The tensor kind the forward pass runs in. `Auto` is fp16 on CUDA,
    /// bf16 on a CPU with bf16 matrix units (AMX or AVX512-BF16: measured on
    /// 2 cores with AMX, 2.6× fp32 and cosine ≥ 0.999 on the committed
    /// fixture), fp32 on other CPUs.
    pub fn kind(self, device: tch::Device) -> tch::Kind {
        match (self, device) {
            (Self::Auto, tch::Device::Cuda(_)) | (Self::Fp16, _) => tch::Kind::Half,
            (Self::Bf16, _) => tch::Kind::BFloat16,
            (Self::Auto, tch::Device::Cpu) if cpu_has_bf16_units() => tch::Kind::BFloat16,
            _ => tch::Kind::Float,
        }
    }
}

/// Whether this CPU multiplies bf16 in hardware (Linux's cpuinfo flags).
pub fn cpu_has_bf16_units() -> bool {
    static FLAGS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FLAGS.get_or_init(|| {
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines().find(|l| l.starts_with("flags")).map(|l| {
                    l.split_whitespace()
                        .any(|f| f == "amx_bf16" || f == "avx512_bf16")
                })
            })
            .unwrap_or(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_devices() {
        assert_eq!("auto".parse::<DeviceSpec>().unwrap(), DeviceSpec::Auto);
        assert_eq!("CPU".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cpu);
        assert_eq!("cuda:1".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cuda(1));
        assert!("tpu".parse::<DeviceSpec>().unwrap_err().contains("tpu"));
        assert!("cuda:x".parse::<DeviceSpec>().is_err());
        assert_eq!(DeviceSpec::Cpu.resolve().unwrap(), tch::Device::Cpu);
    }
}
