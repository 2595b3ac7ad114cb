// A vendor bundle for the tests (test/plain-child.test.ts): when it runs, it records the token its element carries.
(globalThis.probeVendorRuns ??= []).push(document.querySelector('probe-vendor')?.getAttribute('embed-token') ?? null);
