//! The methods every native store class has, written once: `native_store!` expands to the
//! class's `#[php_impl]` block with these delegations and the class's own methods. A class
//! using it has the fields `store` (a core `Store`), `policy`, `memo` and `reporter`.

/// `native_store!(Class { own methods })`.
macro_rules! native_store {
    ($class:ident { $($own:tt)* }) => {
        #[php_impl]
        impl $class {
            $($own)*

            pub fn get(&self, key: &Zval, miss: &Zval) -> NResult<Zval> {
                ops::get(&self.store, &self.policy, &self.memo, key, miss).php_code()
            }

            pub fn get_many(&self, keys: &ZendHashTable) -> NResult<ZBox<ZendHashTable>> {
                ops::get_many(&self.store, &self.policy, &self.memo, keys).php_code()
            }

            pub fn set(&self, key: &Zval, value: &Zval, expires_at_ms: &Zval) -> NResult<()> {
                ops::set(&self.store, &self.policy, key, value, expires_at_ms).php_code()
            }

            pub fn set_many(
                &self,
                keys: &ZendHashTable,
                values: &ZendHashTable,
                expiries: &ZendHashTable,
            ) -> NResult<ZBox<ZendHashTable>> {
                ops::set_many(&self.store, &self.policy, keys, values, expiries).php_code()
            }

            pub fn delete_many(&self, keys: &ZendHashTable) -> NResult<()> {
                ops::delete_many(&self.store, keys).php()
            }

            pub fn clear(&self) -> NResult<()> {
                self.store.clear().php()
            }

            pub fn prune(&self) -> NResult<i64> {
                self.store.prune().map(|n| n as i64).php()
            }

            /// Writes the EMF line of the activity since the last one now (when EMF is on).
            pub fn flush_metrics(&self) {
                if let Some(r) = &self.reporter {
                    r.flush();
                }
            }
        }
    };
}

pub(crate) use native_store;
