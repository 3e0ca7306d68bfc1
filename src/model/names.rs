//! Atlas's names for enumerated values: one macro declares an enum whose
//! values are spelled as Atlas (or the command line) spells them, and gives
//! it `ALL`, `name()`, `about()`, `Display`, `FromStr` and serde, all
//! through the same table, so a name is written once.

use std::fmt;

/// How a name is matched when it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// Exactly as written (Atlas's own names: `MANAGED`, `GROUP_OWNER`).
    Exact,
    /// Without regard to ASCII case (atlas-ca's own names: `rsa-2048`).
    Insensitive,
}

/// A type whose values have Atlas's names (declared with [`atlas_enum!`]).
pub trait AtlasName: Copy + Send + Sync + 'static {
    /// What a value is, for messages (`x509Type`, `key type`).
    const WHAT: &'static str;
    /// How names are matched when read.
    const CASE: Case;
    /// `NONE`, then every name (what a field that may be unset accepts).
    const NAMES_OR_NONE: &'static [&'static str];
    /// Every value, in the order help texts list them.
    fn all() -> &'static [Self];
    /// The value's name.
    fn name(self) -> &'static str;
    /// One line on what the value means.
    fn about(self) -> &'static str;
}

/// A name that none of a type's values has (a role, an X.509 type).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {name:?}")]
pub struct UnknownName {
    /// What kind of name it is.
    pub what: &'static str,
    /// The name.
    pub name: String,
}

/// The value of `T` named `s`, by `T`'s case rule.
pub fn parse<T: AtlasName>(s: &str) -> Result<T, UnknownName> {
    T::all()
        .iter()
        .copied()
        .find(|t| match T::CASE {
            Case::Exact => t.name() == s,
            Case::Insensitive => t.name().eq_ignore_ascii_case(s),
        })
        .ok_or_else(|| UnknownName {
            what: T::WHAT,
            name: s.to_string(),
        })
}

/// The name Atlas writes for a field that is unset: `x509Type = "NONE"`.
pub const NONE: &str = "NONE";

/// `NONE` as no value, any other name as `T`'s (Atlas's optional kinds:
/// `x509Type`, `awsIAMType`, `ldapAuthType`, `oidcAuthType`).
pub fn parse_or_none<T: AtlasName>(s: &str) -> Result<Option<T>, UnknownName> {
    if s == NONE {
        Ok(None)
    } else {
        parse(s).map(Some)
    }
}

/// The name of `value`, `NONE` for none.
pub fn name_or_none<T: AtlasName>(value: Option<T>) -> &'static str {
    value.map_or(NONE, T::name)
}

/// Reads an `Option<T>` written as a name or `NONE` (for
/// `#[serde(default, deserialize_with = "...")]`: absent is `NONE` too).
pub fn deserialize_or_none<'de, D: serde::Deserializer<'de>, T: AtlasName>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    let s = <String as serde::Deserialize>::deserialize(deserializer)?;
    parse_or_none(&s).map_err(|_| serde::de::Error::unknown_variant(&s, T::NAMES_OR_NONE))
}

/// Writes `name` (for the macro's `Display`).
pub fn write_name(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    f.write_str(name)
}

/// Declares an enum of named values: each variant `Name = "NAME", "what
/// it means";`, the enum's `("what", Case)` after its name.
macro_rules! atlas_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $ty:ident($what:literal, $case:ident) {
            $($(#[$vmeta:meta])* $variant:ident = $name:literal, $about:literal;)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $ty {
            $($(#[$vmeta])* $variant,)+
        }

        impl $ty {
            /// Every value, in the order help texts list them.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];
            /// Every name, in the same order.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The value's name.
            pub const fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }

            /// One line on what the value means.
            pub const fn about(self) -> &'static str {
                match self {
                    $($ty::$variant => $about,)+
                }
            }
        }

        impl $crate::model::names::AtlasName for $ty {
            const WHAT: &'static str = $what;
            const CASE: $crate::model::names::Case = $crate::model::names::Case::$case;
            const NAMES_OR_NONE: &'static [&'static str] = &[$crate::model::names::NONE, $($name),+];

            fn all() -> &'static [$ty] {
                $ty::ALL
            }

            fn name(self) -> &'static str {
                $ty::name(self)
            }

            fn about(self) -> &'static str {
                $ty::about(self)
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                $crate::model::names::write_name(f, self.name())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::model::names::UnknownName;

            fn from_str(s: &str) -> Result<$ty, $crate::model::names::UnknownName> {
                $crate::model::names::parse(s)
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                let s = <String as ::serde::Deserialize>::deserialize(d)?;
                $crate::model::names::parse(&s)
                    .map_err(|_| ::serde::de::Error::unknown_variant(&s, $ty::NAMES))
            }
        }
    };
}

pub(crate) use atlas_enum;

#[cfg(test)]
mod tests {
    use super::*;

    atlas_enum! {
        /// A test enum.
        enum Shade("shade", Insensitive) {
            /// Light.
            Light = "light", "not dark";
            /// Dark.
            Dark = "DARK", "not light";
        }
    }

    #[test]
    fn names_round_trip_through_every_path() {
        for s in Shade::ALL {
            assert_eq!(s.name().parse::<Shade>(), Ok(*s));
            assert_eq!(s.to_string(), s.name());
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.name()));
            assert_eq!(serde_json::from_str::<Shade>(&json).unwrap(), *s);
        }
        assert_eq!("LIGHT".parse::<Shade>(), Ok(Shade::Light));
        let e = "grey".parse::<Shade>().unwrap_err();
        assert_eq!(e.to_string(), "unknown shade \"grey\"");
        let e = serde_json::from_str::<Shade>("\"grey\"").unwrap_err();
        assert!(e.to_string().contains("unknown variant `grey`"), "{e}");
        assert_eq!(parse_or_none::<Shade>("NONE"), Ok(None));
        assert_eq!(parse_or_none::<Shade>("dark"), Ok(Some(Shade::Dark)));
        assert_eq!(name_or_none::<Shade>(None), "NONE");
    }
}
