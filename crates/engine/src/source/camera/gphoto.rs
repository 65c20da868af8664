//! The camera layer over libgphoto2 (the `gphoto2` crate). The crate runs every libgphoto2
//! call on its own worker thread; the camera service calls these from its thread and waits.

use std::path::Path;
use std::time::{Duration, Instant};

use gphoto2::list::CameraDescriptor;
use gphoto2::widget::{RadioWidget, TextWidget, Widget};
use gphoto2::{Camera, Context, Error, error::ErrorKind};

use super::driver::{
    CardFile, Device, DeviceEvent, Driver, DriverError, DriverResult, Failure, Found, Info,
};
use super::hotplug::{Gate, fingerprint};
use super::settings::{CameraSetting, KEYS};

/// libgphoto2's camera list and ports.
pub struct Gphoto {
    context: Context,
    /// When libgphoto2's camera list is read again.
    gate: Gate,
    /// What it said last.
    found: Vec<Found>,
}

impl std::fmt::Debug for Gphoto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gphoto")
    }
}

impl Gphoto {
    /// A libgphoto2 context (loads the camera and port drivers).
    pub fn new() -> DriverResult<Self> {
        Ok(Self {
            context: Context::new().map_err(error)?,
            gate: Gate::default(),
            found: Vec::new(),
        })
    }
}

/// Map a libgphoto2 error to what the service needs to know.
fn error(e: Error) -> DriverError {
    let failure = match e.kind() {
        ErrorKind::IoUsbClaim | ErrorKind::IoLock | ErrorKind::CameraBusy => Failure::Busy,
        ErrorKind::IoUsbFind
        | ErrorKind::Io
        | ErrorKind::IoRead
        | ErrorKind::IoWrite
        | ErrorKind::IoUpdate
        | ErrorKind::UnknownPort
        | ErrorKind::ModelNotFound => Failure::Gone,
        ErrorKind::NoSpace | ErrorKind::NoMemory => Failure::CardFull,
        ErrorKind::NotSupported => Failure::NotSupported,
        _ => Failure::Other,
    };
    DriverError::new(failure, e.to_string())
}

impl Driver for Gphoto {
    /// libgphoto2's list when the kernel's listing says it may have changed (see
    /// [`super::hotplug`]), else what it said last.
    fn scan(&mut self) -> DriverResult<Vec<Found>> {
        if !self.gate.due(fingerprint(), Instant::now()) {
            return Ok(self.found.clone());
        }
        let listed = match self.context.list_cameras().wait() {
            Ok(listed) => listed,
            Err(e) => {
                self.gate.failed();
                return Err(error(e));
            }
        };
        self.found = listed
            .map(|d| Found {
                model: d.model,
                port: d.port,
            })
            .collect();
        Ok(self.found.clone())
    }

    fn open(&mut self, found: &Found) -> DriverResult<Box<dyn Device>> {
        let camera = self
            .context
            .get_camera(&CameraDescriptor {
                model: found.model.clone(),
                port: found.port.clone(),
            })
            .wait()
            .map_err(error)?;
        Ok(Box::new(GphotoCamera { camera }))
    }
}

struct GphotoCamera {
    camera: Camera,
}

impl GphotoCamera {
    fn text(&self, key: &str) -> Option<String> {
        let widget = self.camera.config_key::<TextWidget>(key).wait().ok()?;
        let value = widget.value().trim().to_string();
        (!value.is_empty()).then_some(value)
    }

    /// The key settings this camera has, each under the first of its keys it knows.
    fn settings(&self) -> Vec<CameraSetting> {
        KEYS.iter()
            .filter_map(|(name, keys)| keys.iter().find_map(|key| self.setting(name, key)))
            .collect()
    }

    fn setting(&self, name: &str, key: &str) -> Option<CameraSetting> {
        let widget = self.camera.config_key::<Widget>(key).wait().ok()?;
        let (value, choices) = match &widget {
            Widget::Radio(w) => (
                w.choice(),
                w.choices_iter().map(|c| c.trim().to_string()).collect(),
            ),
            Widget::Text(w) => (w.value(), Vec::new()),
            Widget::Range(w) => {
                let (range, step) = w.range_and_step();
                (number(w.value()), steps(*range.start(), *range.end(), step))
            }
            _ => return None,
        };
        Some(CameraSetting {
            name: name.to_string(),
            key: key.to_string(),
            label: widget.label(),
            value: value.trim().to_string(),
            choices,
            readonly: widget.readonly(),
        })
    }

    fn walk(&self, folder: &str, out: &mut Vec<CardFile>, depth: usize) -> DriverResult<()> {
        let fs = self.camera.fs();
        for name in fs.list_files(folder).wait().map_err(error)? {
            out.push(self.stat_in(folder, &name)?);
        }
        if depth < 8 {
            for sub in fs.list_folders(folder).wait().map_err(error)? {
                let path = if folder.ends_with('/') {
                    format!("{folder}{sub}")
                } else {
                    format!("{folder}/{sub}")
                };
                self.walk(&path, out, depth + 1)?;
            }
        }
        Ok(())
    }

    fn stat_in(&self, folder: &str, name: &str) -> DriverResult<CardFile> {
        let info = self
            .camera
            .fs()
            .file_info(folder, name)
            .wait()
            .map_err(error)?;
        let file = info.file();
        Ok(CardFile {
            folder: folder.to_string(),
            name: name.to_string(),
            size: file.size().unwrap_or(0),
            mtime: file.mtime().map_or(0, i64::from),
        })
    }
}

/// A range widget's value as text (`5.6`, `400`).
fn number(value: f32) -> String {
    format!("{}", (f64::from(value) * 1000.0).round() / 1000.0)
}

/// A range's values when there are few enough to choose from (else free entry).
fn steps(min: f32, max: f32, step: f32) -> Vec<String> {
    if step <= 0.0 || max < min || (max - min) / step > 200.0 {
        return Vec::new();
    }
    let count = ((max - min) / step).round() as u32;
    (0..=count).map(|k| number(min + step * k as f32)).collect()
}

impl Device for GphotoCamera {
    fn info(&mut self) -> Info {
        let battery = self.text("batterylevel").and_then(|b| {
            b.chars()
                .filter(char::is_ascii_digit)
                .collect::<String>()
                .parse::<u8>()
                .ok()
        });
        let card_free_bytes = self.camera.storages().wait().ok().and_then(|storages| {
            let free: Vec<u64> = storages.iter().filter_map(|s| s.free_kb()).collect();
            (!free.is_empty()).then(|| free.iter().sum())
        });
        Info {
            serial: self.text("serialnumber"),
            battery,
            card_free_bytes,
            settings: self.settings(),
        }
    }

    fn capture_to_card(&mut self) -> bool {
        let Ok(target) = self
            .camera
            .config_key::<RadioWidget>("capturetarget")
            .wait()
        else {
            return false;
        };
        let card = target
            .choices_iter()
            .find(|c| c.to_ascii_lowercase().contains("card"));
        match card {
            Some(card) if target.choice() == card => true,
            Some(card) => {
                target.set_choice(&card).is_ok() && self.camera.set_config(&target).wait().is_ok()
            }
            None => false,
        }
    }

    fn wait_event(&mut self, timeout: Duration) -> DriverResult<DeviceEvent> {
        use gphoto2::camera::CameraEvent;
        Ok(
            match self.camera.wait_event(timeout).wait().map_err(error)? {
                CameraEvent::Timeout => DeviceEvent::Timeout,
                CameraEvent::NewFile(path) => DeviceEvent::NewFile {
                    folder: path.folder().into_owned(),
                    name: path.name().into_owned(),
                },
                CameraEvent::CaptureComplete => DeviceEvent::CaptureComplete,
                // libgphoto2 passes PTP's StoreFull through as "PTP Event 400a, Param1 …".
                CameraEvent::Unknown(text) if text.to_ascii_lowercase().contains("event 400a") => {
                    DeviceEvent::CardFull
                }
                CameraEvent::Unknown(text) => DeviceEvent::Other(text),
                CameraEvent::FileChanged(path) | CameraEvent::NewFolder(path) => {
                    DeviceEvent::Other(format!("{}/{}", path.folder(), path.name()))
                }
            },
        )
    }

    fn trigger(&mut self) -> DriverResult<()> {
        self.camera.trigger_capture().wait().map_err(error)
    }

    fn list(&mut self) -> DriverResult<Vec<CardFile>> {
        let mut out = Vec::new();
        self.walk("/", &mut out, 0)?;
        Ok(out)
    }

    fn stat(&mut self, folder: &str, name: &str) -> DriverResult<CardFile> {
        self.stat_in(folder, name)
    }

    fn download(&mut self, file: &CardFile, to: &Path) -> DriverResult<()> {
        self.camera
            .fs()
            .download_to(&file.folder, &file.name, to)
            .wait()
            .map(drop)
            .map_err(error)
    }

    fn delete(&mut self, file: &CardFile) -> DriverResult<()> {
        self.camera
            .fs()
            .delete_file(&file.folder, &file.name)
            .wait()
            .map_err(error)
    }

    fn set_config(&mut self, key: &str, value: &str) -> DriverResult<()> {
        let widget = self
            .camera
            .config_key::<Widget>(key)
            .wait()
            .map_err(error)?;
        let set = match &widget {
            Widget::Text(w) => w.set_value(value),
            Widget::Radio(w) => w.set_choice(value),
            Widget::Toggle(w) => {
                w.set_toggled(matches!(value, "1" | "true" | "on" | "yes"));
                Ok(())
            }
            Widget::Range(w) => match value.parse::<f32>() {
                Ok(v) => {
                    w.set_value(v);
                    Ok(())
                }
                Err(_) => {
                    return Err(DriverError::new(
                        Failure::Other,
                        format!("{key} takes a number, not `{value}`"),
                    ));
                }
            },
            _ => {
                return Err(DriverError::new(
                    Failure::NotSupported,
                    format!("{key} cannot be set"),
                ));
            }
        };
        set.map_err(error)?;
        self.camera.set_config(&widget).wait().map_err(error)
    }

    fn preview(&mut self) -> DriverResult<Vec<u8>> {
        let file = self.camera.capture_preview().wait().map_err(error)?;
        let data = file.get_data(&self.camera).wait().map_err(error)?;
        Ok(data.into_vec())
    }

    /// Through the `viewfinder` setting, which libgphoto2 has for cameras with live view
    /// (Nikon, Canon EOS, Sony); a camera without it has nothing to end.
    fn end_preview(&mut self) -> DriverResult<()> {
        match self.set_config("viewfinder", "0") {
            Err(e) if e.failure != Failure::Gone => {
                tracing::debug!("camera: ending live view: {e}");
                Ok(())
            }
            other => other,
        }
    }

    /// libgphoto2's `manualfocusdrive` (a Nikon's lens steps, negative is nearer) and
    /// `autofocusdrive`.
    fn focus(&mut self, drive: crate::live::Focus) -> DriverResult<String> {
        let result = match drive.steps() {
            Some(steps) => self.set_config("manualfocusdrive", &steps.to_string()),
            None => self.set_config("autofocusdrive", "1"),
        };
        match (result, drive) {
            (Ok(()), crate::live::Focus::Auto) => Ok("focused".into()),
            (Ok(()), _) => Ok(format!("moved {drive}")),
            // libgphoto2 reports the lens's end as GP_ERROR_CAMERA_ERROR ("Camera could
            // not complete operation") once the drive is done.
            (Err(e), crate::live::Focus::Near(_) | crate::live::Focus::Far(_))
                if e.message.contains("could not complete") =>
            {
                Ok(format!(
                    "at the {} end of the lens",
                    if matches!(drive, crate::live::Focus::Near(_)) {
                        "near"
                    } else {
                        "far"
                    }
                ))
            }
            (Err(e), _) => Err(e),
        }
    }
}
