//! Integration tests of treatfirst-risk. They never read ../shared: every data set is
//! generated here from a seed.

mod cli;
mod generated;
mod shipped;
mod training;
