// The D1 bindings of the workerd test project: D1 databases are bindings, fixed when the runtime
// starts, so the project declares one per database the conformance suite opens (t1, t2, …).
export const D1_DATABASE_COUNT = 160;
export const D1_DATABASES = Array.from({ length: D1_DATABASE_COUNT }, (_, i) => `DB_t${i + 1}`);
