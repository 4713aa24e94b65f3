'use strict';
// The error classes of the vexfs package, apart from the native addon so that the remote client
// (remote.js) can use them without loading it.

/** An error from libvexfs: `code` is the status name (e.g. "VEXFS_E_INVALID"). */
class VexfsError extends Error {
  constructor(message, code) {
    super(message);
    this.name = 'VexfsError';
    this.code = code;
  }
}

/**
 * An error of the remote client (VexFSClient): `code` as the embedded library would name it
 * ("VEXFS_E_NOT_FOUND", "VEXFS_E_INVALID", ...; "VEXFS_E_AUTH" for a refused API key,
 * "VEXFS_E_CONNECTION" / "VEXFS_E_TIMEOUT" when no answer came), `status` the HTTP status (0 when
 * no answer came), `apiCode` the server's /api/v1 code ("API_005"), `endpoint` the server.
 */
class VexFSError extends VexfsError {
  constructor(message, { code, status = 0, apiCode = null, endpoint = null, cause } = {}) {
    super(message, code);
    this.name = 'VexFSError';
    this.status = status;
    this.apiCode = apiCode;
    this.endpoint = endpoint;
    if (cause !== undefined) this.cause = cause;
  }
}

module.exports = { VexfsError, VexFSError };
