// Who is looking at the gallery: the share and its link's token (from the page's address:
// `/g/<share id>#<token>`, the token in the fragment so it never reaches a server log or
// a Referer), and the guest's own token once they gave a name (and the share's PIN, when
// it has one), exchanged for the link's at `POST /v1/tokens` and kept in this browser.
// Also what the relay's refusals mean for a person.
/** A JWT's claims (not checked: the relay checks them; the page only needs the channel). */
export function claimsOf(token) {
    const part = token.split(".")[1];
    if (!part)
        return undefined;
    try {
        const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
        const text = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
        const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
        return JSON.parse(new TextDecoder().decode(bytes));
    }
    catch {
        return undefined;
    }
}
export const share = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() ?? "");
export const linkToken = decodeURIComponent(location.hash.replace(/^#/, "")).trim();
export const channel = claimsOf(linkToken)?.channels?.[0] ?? "";
const storageKey = `shotline-guest:${share}`;
let current = linkToken;
/** The token the page uses now: the guest's own, else the link's. */
export function token() {
    return current;
}
/** The `sub` of this guest's own token (undefined until they gave a name). */
export function mySub() {
    return current === linkToken ? undefined : claimsOf(current)?.sub;
}
function now() {
    return Math.floor(Date.now() / 1000);
}
/** The guest this browser remembers for the share, while their token lasts. */
export function storedGuest() {
    try {
        const guest = JSON.parse(localStorage.getItem(storageKey) ?? "null");
        if (guest && typeof guest.token === "string" && guest.exp > now() + 60)
            return guest;
    }
    catch {
        // No storage (private mode), or something else in it: ask again.
    }
    return undefined;
}
/** Use `guest`'s token from now on (and remember it, where the browser lets us). */
export function become(guest) {
    try {
        localStorage.setItem(storageKey, JSON.stringify(guest));
    }
    catch {
        // Private mode: this visit only.
    }
    current = guest.token;
}
/** Forget the guest's own token: back to the link's. */
export function forget() {
    try {
        localStorage.removeItem(storageKey);
    }
    catch {
        // Nothing kept.
    }
    current = linkToken;
}
/** What a refusal means for a person, by its code (the relay's own message otherwise). */
export function explain(code, fallback) {
    switch (code) {
        case "too_many_connections":
            return "Too many people are on this link from your network right now: try again in a minute.";
        case "too_many_guests":
            return "Too many new guests have opened this link from your network within the hour: try again later, or ask the studio for a link of your own.";
        case "overloaded":
            return "The gallery is very busy right now: try again in a minute.";
        case "rate_limited":
            return "You are answering faster than the gallery takes them: wait a few seconds, then send it again.";
        case "pin_required":
            return "This gallery asks for a PIN: the studio gave it to you with the link.";
        case "wrong_pin":
            return "That PIN is not right: check it with the studio.";
        case "selection_locked":
            return "Your selection is sent, so it cannot change now: ask the studio to unlock it.";
        default:
            return fallback;
    }
}
/** Is a refusal final (the token will never be taken again)? */
export async function refusedForGood(response) {
    if (response.status !== 401)
        return false;
    const body = (await response.clone().json().catch(() => ({})));
    return body.code === "revoked" || body.code === "token_expired";
}
/** Does the relay want the share's PIN first? */
export async function wantsPin(response) {
    if (response.status !== 401)
        return false;
    const body = (await response.clone().json().catch(() => ({})));
    return body.code === "pin_required";
}
/** Exchange the link's token for `name`'s own (with the share's `pin`, when it has one). */
export async function exchange(name, pin) {
    const body = { channels: [channel], name };
    if (pin)
        body.pin = pin;
    const response = await fetch("/v1/tokens", {
        method: "POST",
        headers: { authorization: `Bearer ${linkToken}`, "content-type": "application/json" },
        body: JSON.stringify(body),
    }).catch(() => undefined);
    if (!response)
        return { error: "The gallery cannot be reached: try again in a moment.", final: false };
    if (await refusedForGood(response))
        return { error: "", final: true };
    const answer = (await response.json().catch(() => ({})));
    if (pin && answer.code === "rate_limited") {
        return { error: "Too many wrong PINs: wait a few minutes, then try again.", final: false };
    }
    if (!response.ok || !answer.token) {
        return {
            error: explain(answer.code, answer.message ?? `Not accepted (HTTP ${response.status}).`),
            final: false,
        };
    }
    return { guest: { token: answer.token, name, exp: answer.exp ?? now() + 3600 } };
}
