// Types of the ES module entry (index.mjs). The declarations themselves are
// in index.d.ts (`export = Lock`); this file only re-exports them under the
// names index.mjs gives them.
import Lock from './index.js'

export default Lock
export { Lock }
export declare const codes: typeof Lock.codes
export declare const withLock: typeof Lock.withLock
export declare const holder: typeof Lock.holder
export declare const ensureIndexes: typeof Lock.ensureIndexes
export declare const close: typeof Lock.close
