// The public API of @redis-persist/cluster (filled in by the modules it exports).
export {};
