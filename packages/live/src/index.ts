// The public API of @redis-persist/live (filled in by the modules it exports).
export {};
