"""Tests of the emulated Mailchimp."""
