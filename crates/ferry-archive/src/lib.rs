//! Ferry: removable-media archives (mirror_seqN_NNNNNN.tar), split by archiveSize, indexed reading and verification.
