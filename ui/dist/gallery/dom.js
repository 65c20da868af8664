// The gallery page's one DOM helper: an element of the page by its id.
/** `#id` on the page; a missing one is a bug in the page, said by name. */
export function $(id) {
    const element = document.getElementById(id);
    if (!element)
        throw new Error(`#${id} missing from the page`);
    return element;
}
