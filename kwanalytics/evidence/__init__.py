"""What each reader is shown: the pupil pack, the cohort view, and the privacy rules applied to both."""
