//! `shotline-desktop`: the tray app.

// No console window on Windows.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    shotline_desktop::run();
}
