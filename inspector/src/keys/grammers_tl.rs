//! grammers' session file before its SQLite storage (grammers-session 0.7
//! and earlier): one TL object, written with these definitions
//! (grammers-session's build.rs), ids as TL computes them from the lines:
//!
//! ```text
//! dataCenter flags:# id:int ipv4:flags.0?int ipv6:flags.1?int128 port:int auth:flags.2?bytes = DataCenter;
//! user id:long dc:int bot:Bool = User;
//! session flags:# dcs:Vector<DataCenter> user:flags.0?User state:flags.1?UpdateState = Session;
//! ```
//!
//! `ipv4` holds the address's four octets in order (an `int` read little
//! endian); the user's `dc` is the home data centre. The constructor ids are
//! those of grammers-session 0.7's generated code (TL's CRC32 of each line
//! as grammers' TL parser normalizes it).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{key_from, socket_text, SessionFormat, SessionKey};

/// `session#…`, the first four bytes of such a file.
pub(super) const SESSION: u32 = 0xa73e_b8ce;
const DATA_CENTER: u32 = 0x756d_16b6;
const USER: u32 = 0x672f_428d;
const VECTOR: u32 = 0x1cb5_c415;

/// The smallest `dataCenter` on the wire: id, flags, id, port.
const MIN_DATA_CENTER: usize = 16;

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len());
        let Some(end) = end else {
            return Err(format!(
                "a grammers session (binary TL) cut short: {n} bytes wanted at byte {} of {}",
                self.at,
                self.b.len()
            ));
        };
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }

    fn expect(&mut self, id: u32, what: &str) -> Result<(), String> {
        let at = self.at;
        let got = self.u32()?;
        if got != id {
            return Err(format!(
                "a grammers session (binary TL) with 0x{got:08x} at byte {at} where {what} (0x{id:08x}) was expected"
            ));
        }
        Ok(())
    }

    /// TL `bytes`: a 1-byte length below 254, else 0xfe and 3 bytes;
    /// padded to 4.
    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let first = self.take(1)?[0];
        let (len, header) = if first < 254 {
            (usize::from(first), 1)
        } else {
            let l = self.take(3)?;
            (usize::from(l[0]) | usize::from(l[1]) << 8 | usize::from(l[2]) << 16, 4)
        };
        let data = self.take(len)?;
        self.take((4 - (header + len) % 4) % 4)?;
        Ok(data)
    }
}

/// The keys of a binary grammers session.
pub(super) fn load(bytes: &[u8]) -> Result<Vec<SessionKey>, String> {
    let mut r = Reader { b: bytes, at: 0 };
    r.expect(SESSION, "session")?;
    let flags = r.u32()?;
    r.expect(VECTOR, "Vector<DataCenter>")?;
    let count = r.u32()? as usize;
    // Each entry takes bytes, so the count is checked against what is left
    // before anything is reserved.
    if count > (bytes.len() - r.at) / MIN_DATA_CENTER {
        return Err(format!("a grammers session (binary TL) announcing {count} data centres in {} bytes", bytes.len()));
    }
    let mut centres = Vec::with_capacity(count);
    for _ in 0..count {
        r.expect(DATA_CENTER, "dataCenter")?;
        let dc_flags = r.u32()?;
        let id = r.u32()? as i32;
        let ipv4 = if dc_flags & 1 != 0 { Some(r.take(4)?) } else { None };
        let ipv6 = if dc_flags & 2 != 0 { Some(r.take(16)?) } else { None };
        let port = i64::from(r.u32()? as i32);
        let auth = if dc_flags & 4 != 0 { Some(r.bytes()?) } else { None };
        let address = match (ipv4, ipv6) {
            (Some(v4), _) => Some(socket_text(&Ipv4Addr::new(v4[0], v4[1], v4[2], v4[3]).to_string(), Some(port))),
            (None, Some(v6)) => {
                let octets: [u8; 16] = v6.try_into().unwrap_or([0; 16]);
                Some(socket_text(&Ipv6Addr::from(octets).to_string(), Some(port)))
            }
            (None, None) => None,
        };
        centres.push((id, address, auth));
    }
    let home = if flags & 1 != 0 {
        r.expect(USER, "user")?;
        r.take(8)?;
        Some(r.u32()? as i32)
    } else {
        None
    };
    let mut keys = Vec::new();
    for (id, address, auth) in centres {
        let Some(auth) = auth.filter(|a| !a.is_empty()) else { continue };
        keys.push(SessionKey {
            format: SessionFormat::GrammersTl,
            dc_id: Some(id),
            address,
            temporary: false,
            home: home == Some(id),
            key: key_from(auth, &format!("dc {id}"))?,
        });
    }
    if keys.is_empty() {
        return Err("the session holds no auth key (not logged in)".into());
    }
    Ok(keys)
}
