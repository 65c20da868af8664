// The one place the window talks to Rust: typed wrappers over Tauri's IPC (the app's
// commands, the engine's events, the folder picker). No bundler, so Tauri's own internals
// are called directly, as its `@tauri-apps/api` does.

import type { Event } from "../generated/Event";
import type { Snapshot } from "../generated/Snapshot";
import type { Settings } from "../generated/Settings";
import type { FieldError } from "../generated/FieldError";
import type { SessionsView } from "../generated/SessionsView";
import type { ShareView } from "../generated/ShareView";
import type { ShotlistView } from "../generated/ShotlistView";
import type { Overlay } from "../generated/Overlay";

interface TauriInternals {
  invoke<T>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  transformCallback(cb: (payload: unknown) => void, once?: boolean): number;
}

function tauri(): TauriInternals {
  const internals = (window as unknown as { __TAURI_INTERNALS__?: TauriInternals }).__TAURI_INTERNALS__;
  if (!internals) {
    throw new Error("not inside the Shotline app");
  }
  return internals;
}

export const snapshot = (): Promise<Snapshot> => tauri().invoke("snapshot");
export const setPaused = (paused: boolean): Promise<void> => tauri().invoke("set_paused", { paused });
export const thumbnail = (shotId: number): Promise<string | null> =>
  tauri().invoke("thumbnail", { shotId });
/** Open a frame's preview (or the frame) in the system's viewer; the file opened. */
export const openFrame = (shotId: number): Promise<string> => tauri().invoke("open_frame", { shotId });
export const settings = (): Promise<Settings> => tauri().invoke("settings");
export const namingExample = (template: string): Promise<string> =>
  tauri().invoke("naming_example", { template });
export const capture = (): Promise<string> => tauri().invoke("capture");
/** Set a camera's key setting; resolves to "name = value as the camera reads it back". */
export const cameraSet = (port: string, name: string, value: string): Promise<string> =>
  tauri().invoke("camera_set", { port, name, value });
/** The next live view picture after number `after`: its number and JPEG, or null when none
 * came within 2 s. Asking counts the window as watching. */
export async function liveFrame(after: number): Promise<{ seq: number; jpeg: Blob } | null> {
  const raw = await tauri().invoke<ArrayBuffer | number[]>("live_frame", { after });
  const buf = raw instanceof ArrayBuffer ? raw : new Uint8Array(raw).buffer;
  if (buf.byteLength <= 8) return null;
  const seq = Number(new DataView(buf).getBigUint64(0));
  return { seq, jpeg: new Blob([buf.slice(8)], { type: "image/jpeg" }) };
}
export const liveStop = (): Promise<void> => tauri().invoke("live_stop");
/** Drive the focus (`near 1`…`far 3`, `auto`); resolves to the camera's answer. */
export const cameraFocus = (drive: string, port?: string): Promise<string> =>
  tauri().invoke("camera_focus", { drive, port: port ?? null });
export const overlay = (): Promise<Overlay | null> => tauri().invoke("overlay");
/** Set (a PNG's path) or clear (null) the session's layout overlay. */
export const setOverlay = (path: string | null, opacity: number): Promise<Overlay | null> =>
  tauri().invoke("set_overlay", { path, opacity });
/** Keep a new opacity for the session's overlay (its picture stays where it is). */
export const setOverlayOpacity = (opacity: number): Promise<void> =>
  tauri().invoke("set_overlay_opacity", { opacity });
export const openLibrary = (): Promise<void> => tauri().invoke("open_library");
export const openDashboard = (): Promise<void> => tauri().invoke("open_dashboard");
export const transferReport = (): Promise<string> => tauri().invoke("transfer_report");
export const sessions = (): Promise<SessionsView> => tauri().invoke("sessions");
export const switchSession = (name: string): Promise<SessionsView> =>
  tauri().invoke("switch_session", { name });
export const shareSession = (): Promise<ShareView> => tauri().invoke("share_session");
export const shares = (): Promise<ShareView[]> => tauri().invoke("shares");
export const revokeShare = (id: string): Promise<void> => tauri().invoke("revoke_share", { id });
/** A share's proofing: `pin` undefined keeps it, "" takes it off. */
export interface ProofingSettings {
  pin?: string;
  watermark: string;
  /** A new PNG logo's path; "" takes the logo off; absent: as it is. */
  logo?: string;
  position: string;
  size: number;
  opacity: number;
  downloads: string;
  choose: string;
  /** Guests see the studio's live view. */
  live: boolean;
  /** With this session's layout overlay over it. */
  live_overlay: boolean;
}
export const shareSettings = (id: string, settings: ProofingSettings): Promise<void> =>
  tauri().invoke("share_settings", { id, settings });
export const extendShare = (id: string, days: number): Promise<void> => tauri().invoke("extend_share", { id, days });
export const unlockSelection = (id: string, guest: string): Promise<void> =>
  tauri().invoke("unlock_selection", { id, guest });
export const shotlist = (): Promise<ShotlistView> => tauri().invoke("shotlist");
/** The next frames are item `code`'s (empty: no item); rejects with why for an unknown code. */
export const shotNext = (code: string): Promise<ShotlistView> => tauri().invoke("shot_next", { code });
export const loadShotlist = (path: string): Promise<ShotlistView> => tauri().invoke("load_shotlist", { path });
/** The current session's own metadata (client, job, keywords) for its frames' sidecars. */
export const setSessionMeta = (pairs: [string, string][]): Promise<void> =>
  tauri().invoke("set_session_meta", { pairs });

/** Save Settings; resolves to the refused values (empty when saved). */
export async function saveSettings(value: Settings): Promise<FieldError[]> {
  try {
    await tauri().invoke("save_settings", { settings: value });
    return [];
  } catch (e) {
    if (Array.isArray(e)) {
      return e as FieldError[];
    }
    return [{ key: "config", message: String(e) }];
  }
}

/** Call `handler` with every engine event. */
export async function onEngineEvent(handler: (event: Event) => void): Promise<void> {
  const t = tauri();
  await t.invoke("plugin:event|listen", {
    event: "engine-event",
    target: { kind: "Any" },
    handler: t.transformCallback((message) => handler((message as { payload: Event }).payload)),
  });
}

/** The native file picker for a CSV (or a PNG); the file, or null when cancelled. */
export function pickFile(title: string, kind: "CSV" | "PNG" = "CSV"): Promise<string | null> {
  return tauri().invoke("plugin:dialog|open", {
    options: { directory: false, multiple: false, title, filters: [{ name: kind, extensions: [kind.toLowerCase()] }] },
  });
}

/** The native folder picker; the folder, or null when cancelled. */
export function pickFolder(title: string): Promise<string | null> {
  return tauri().invoke("plugin:dialog|open", {
    options: { directory: true, multiple: false, title },
  });
}
