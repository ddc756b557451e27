/**
 * ES module entry of mongoose-distributed-lock 1.x (package.json "exports",
 * condition "import"). It wraps the CommonJS entry, so `import` and
 * `require()` share one module instance: the same Lock factory, connection
 * pool and error codes either way.
 *
 *   import Lock from 'mongoose-distributed-lock'
 *   import { Lock, withLock, codes } from 'mongoose-distributed-lock'
 */
import Lock from './index.js'

export default Lock
export { Lock }
export const { codes, withLock, holder, ensureIndexes, close } = Lock
