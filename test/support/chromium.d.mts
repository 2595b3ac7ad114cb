/** Debian's Chromium unless CHROME_PATH names another. */
export declare const chromiumPath: string;
/** The flags every browser test and benchmark starts it with. */
export declare const chromiumArgs: string[];
/** Why no browser test can run here, in one line, or null when the browser is there. */
export declare function chromiumMissing(): string | null;
