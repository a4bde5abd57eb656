//! A peer lost during the run (killed, out of memory, node failure): timely's network thread
//! for that peer panics with "timely communication error: …" when the connection breaks,
//! which then poisons the workers and the main thread in a cascade of panics and backtraces.
//! The panic hook installed here turns the first such panic into one error message naming the
//! peer and ends the process with status 1; every other panic goes to the previous hook.

use std::any::Any;
use std::sync::Once;

/// Start of the panic message of timely's network threads on a broken connection.
const COMMUNICATION_ERROR: &str = "timely communication error";

/// Installs the hook once per process; `addresses` (`host:port` of every process, in process
/// order) name the lost peer in the message.
pub(super) fn exit_when_a_peer_is_lost(addresses: &[String]) {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let addresses = addresses.to_vec();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            let message = payload_text(info.payload());
            if let Some(text) = lost_peer_message(thread.name(), message, &addresses) {
                eprintln!("error: {text}");
                std::process::exit(1);
            }
            previous(info);
        }));
    });
}

/// The text of a panic payload (a `&str` or a `String`), empty for anything else.
fn payload_text(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("")
}

/// The error to report when a panic with `message` in the thread named `thread` is timely's
/// network thread losing its peer (threads `timely:send-K` and `timely:recv-K` talk to process
/// K); `None` for any other panic.
fn lost_peer_message(thread: Option<&str>, message: &str, addresses: &[String]) -> Option<String> {
    let name = thread?;
    let peer: usize = name
        .strip_prefix("timely:recv-")
        .or_else(|| name.strip_prefix("timely:send-"))?
        .parse()
        .ok()?;
    let address = addresses.get(peer)?;
    message.starts_with(COMMUNICATION_ERROR).then(|| {
        format!(
            "lost the connection to process {peer} ({address}) during the run \
             ({message}). That process has stopped (killed, out of memory, node failure) or the \
             network between the hosts failed, and the run cannot go on without it: start all \
             processes again, with --continue OUTPUT_ROOT to resume after the last complete \
             iteration"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_network_thread_losing_its_peer_is_reported() {
        let addresses = ["node1:2101".to_string(), "node2:2102".to_string()];
        let closed = "timely communication error: reading data: socket closed";
        let text = lost_peer_message(Some("timely:recv-1"), closed, &addresses).unwrap();
        assert!(
            text.contains("process 1 (node2:2102)") && text.contains("socket closed"),
            "{text}"
        );
        let pipe = "timely communication error: writing data: Broken pipe (os error 32)";
        let text = lost_peer_message(Some("timely:send-0"), pipe, &addresses).unwrap();
        assert!(text.contains("process 0 (node1:2101)"), "{text}");
        for (thread, message) in [
            (Some("timely:work-0"), closed),
            (Some("timely:recv-1"), "MergeQueue poisoned."),
            (Some("timely:recv-7"), closed),
            (Some("main"), closed),
            (None, closed),
        ] {
            assert_eq!(lost_peer_message(thread, message, &addresses), None);
        }
        let text: Box<dyn Any + Send> = Box::new(String::from("owned"));
        assert_eq!(payload_text(text.as_ref()), "owned");
        let number: Box<dyn Any + Send> = Box::new(3);
        assert_eq!(payload_text(number.as_ref()), "");
    }
}
